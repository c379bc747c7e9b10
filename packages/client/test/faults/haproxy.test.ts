import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { queryRows } from "@testtrack/core";
import { openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { createTestPrincipal } from "@testtrack/server/testing";
import { sql } from "drizzle-orm";
import { EventSource } from "eventsource";
import { afterAll, expect, it } from "vitest";
import { createTestTrackClient, type ExecutionRun, recordExecution } from "../../src/index";
import { freePort } from "./privatePostgres";
import { type ServerProcess, startServerProcess } from "./serverProcess";

/**
 * Three server instances on one PostgreSQL behind HAProxy (deploy/haproxy/haproxy.cfg), eight
 * recorders ingesting through it, one instance killed with SIGKILL mid-way and started again.
 * TESTTRACK_FAULT_FULL=1 runs the full size (8 × 1,000 steps); the default is CI's quick one.
 */
const FULL = process.env.TESTTRACK_FAULT_FULL === "1";
const RECORDERS = 8;
const STEPS = FULL ? 1_000 : 200;
/** Pause between a recorder's batches: ingest lasts long enough to outlive the restart. */
const PACE_MS = FULL ? 100 : 400;
const BATCH = 10;

const configFile = fileURLToPath(
  new URL("../../../../deploy/haproxy/haproxy.cfg", import.meta.url),
);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Debian's haproxy: found on the PATH, or installed when we may; else why not. */
function findHaproxy(): { path: string } | { skip: string } {
  const which = () => {
    try {
      return execFileSync("sh", ["-c", "command -v haproxy"], { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  const found = which();
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { skip: "haproxy is not installed and we are not root" };
  try {
    execFileSync("apt-get", ["install", "-y", "haproxy"], { stdio: "ignore", timeout: 120_000 });
  } catch (error) {
    return { skip: `haproxy is not installed and apt-get install failed: ${String(error)}` };
  }
  return which() ? { path: which() } : { skip: "haproxy is still missing after apt-get install" };
}

const haproxy = findHaproxy();
if ("skip" in haproxy) console.log(`SKIPPED the HAProxy fault test: ${haproxy.skip}`);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function killOnCleanup(child: ChildProcess) {
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
}

async function startInstance(database: TestDatabase, port: number): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-lb-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const instance = await startServerProcess(dataDir, {
    DATABASE_URL: database.url,
    PORT: String(port),
    // A user exists already: no instance makes an admin (three at once would race for it).
    TESTTRACK_ADMIN_EMAIL: "",
    TESTTRACK_ADMIN_PASSWORD: "",
  });
  killOnCleanup(instance.child);
  return instance;
}

/** HAProxy in the foreground on the repository's config, healthy when this resolves. */
async function startBalancer(bind: string, instances: string[]): Promise<ChildProcess> {
  if (!("path" in haproxy)) throw new Error("no haproxy");
  const child = spawn(haproxy.path, ["-f", configFile, "-db"], {
    env: {
      ...process.env,
      TESTTRACK_LB_BIND: bind,
      TESTTRACK_INSTANCE_1: instances[0],
      TESTTRACK_INSTANCE_2: instances[1],
      TESTTRACK_INSTANCE_3: instances[2],
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  killOnCleanup(child);
  let output = "";
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`haproxy exited: ${output}`);
    const ok = await fetch(`http://${bind}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return child;
    if (i > 100) throw new Error(`haproxy did not answer: ${output}`);
    await sleep(100);
  }
}

/** Step numbers a subscriber on one instance received for an execution, and how it ended. */
function follow(url: string, token: string, executionId: number) {
  const client = createTestTrackClient({ url, token, EventSource });
  const received: number[] = [];
  const ended = new Promise<string>((resolve) => {
    client.execution.onSteps.subscribe(
      { executionId },
      {
        onData: (event) => {
          for (const step of event.data.steps) received.push(step.stepNumber);
        },
        onError: (error) => resolve(`error: ${String(error)}`),
        onComplete: () => resolve("completed"),
      },
    );
  });
  return { received, ended };
}

/** A fresh database with a member, three instances on it and HAProxy in front of them. */
async function startCluster() {
  const database = await openTestDatabase();
  cleanups.push(() => database.close());
  const member = await createTestPrincipal(database);
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const [lbPort, ...instancePorts] = ports as [number, number, number, number];
  const addresses = instancePorts.map((port) => `127.0.0.1:${port}`);
  const instances = await Promise.all(instancePorts.map((port) => startInstance(database, port)));
  await startBalancer(`127.0.0.1:${lbPort}`, addresses);
  return { database, member, instances, instancePorts, balancer: `http://127.0.0.1:${lbPort}` };
}

it.skipIf("skip" in haproxy)(
  `loses and duplicates no step of ${RECORDERS} recorders through HAProxy when an instance is killed mid-way and restarted; subscribers on the survivors keep receiving`,
  async () => {
    const { database, member, instances, instancePorts, balancer } = await startCluster();

    const client = createTestTrackClient({ url: balancer, token: member.token });
    const testCase = await client.testCase.create.mutate({ title: "Recorded through HAProxy" });
    const retry = { retries: 12, minDelayMs: 100, maxDelayMs: 2_000 };
    const runs: ExecutionRun[] = [];
    for (let r = 0; r < RECORDERS; r++) {
      runs.push(
        await recordExecution(client, { testCaseId: testCase.id, batchSize: BATCH, retry }),
      );
    }
    // Each execution followed on a survivor (instances 2 and 3); instance 1 is the one killed.
    const survivors = instances.slice(1);
    const subscribers = runs.map((run, r) =>
      follow(survivors[r % 2]?.url ?? "", member.token, run.executionId),
    );

    // Each recorder records STEPS steps, and goes on until the restarted instance has served for
    // a while, so ingest spans the kill, the outage and the restart.
    const total = RECORDERS * STEPS;
    const recorded = runs.map(() => 0);
    let restartedLongEnough = false;
    const stored = () => runs.reduce((sum, run) => sum + run.storedSteps.length, 0);
    const started = Date.now();
    const recorders = runs.map(async (run, r) => {
      for (let n = 1; n <= STEPS || !restartedLongEnough; n++) {
        run.step({ stepDescription: `recorder ${r} step ${n}`, result: "pass" });
        recorded[r] = n;
        if (n % BATCH === 0) await sleep(PACE_MS);
      }
      return run.finish();
    });

    // SIGKILL instance 1 a third of the way in, start it again on its port a second later.
    while (stored() < total / 3) await sleep(10);
    const killed = instances[0] as ServerProcess;
    const storedAtKill = stored();
    killed.child.kill("SIGKILL");
    await killed.exited;
    const receivedAtKill = subscribers.reduce((sum, s) => sum + s.received.length, 0);
    await sleep(1_000);
    const restartStarted = Date.now();
    const restarted = await startInstance(database, instancePorts[0] as number);
    const restartMs = Date.now() - restartStarted;
    const storedAtRestart = stored();
    await sleep(1_500);
    restartedLongEnough = true;

    const finished = await Promise.all(recorders);
    const ingestMs = Date.now() - started;
    expect(finished.map((execution) => execution.status)).toEqual(
      Array(RECORDERS).fill("completed"),
    );
    expect(finished.map((execution) => execution.totalSteps)).toEqual(recorded);
    const sent = recorded.reduce((sum, n) => sum + n, 0);

    const counts = await queryRows<{ execution_id: number; steps: number; distinct: number }>(
      database.db,
      sql`select execution_id, count(*)::int as steps, count(distinct step_number)::int as distinct
          from test_execution_steps
          where execution_id in ${runs.map((run) => run.executionId)}
          group by execution_id order by execution_id`,
    );
    expect(counts).toEqual(
      runs.map((run, r) => ({
        execution_id: run.executionId,
        steps: recorded[r],
        distinct: recorded[r],
      })),
    );

    // The survivors' subscribers saw every step once, also the ones written through the
    // killed instance and its restarted successor (LISTEN/NOTIFY carries them across).
    const endings = await Promise.all(subscribers.map((s) => s.ended));
    expect(endings).toEqual(Array(RECORDERS).fill("completed"));
    subscribers.forEach((subscriber, r) => {
      const expected = Array.from({ length: recorded[r] ?? 0 }, (_, i) => i + 1);
      expect([...subscriber.received].sort((a, b) => a - b)).toEqual(expected);
    });
    const receivedAfterKill =
      subscribers.reduce((sum, s) => sum + s.received.length, 0) - receivedAtKill;
    expect(receivedAfterKill).toBeGreaterThan(0);

    // The restarted instance serves again through the balancer.
    const direct = createTestTrackClient({ url: restarted.url, token: member.token });
    await expect(
      direct.execution.get.query({ id: runs[0]?.executionId ?? 0 }),
    ).resolves.toMatchObject({
      totalSteps: recorded[0],
    });
    console.log(
      `HAProxy fault test (${FULL ? "full" : "quick"}): ${RECORDERS} recorders, ${sent} steps in ${ingestMs} ms (${Math.round((sent / ingestMs) * 1000)} steps/s); SIGKILL at ${storedAtKill} stored, ${storedAtRestart} stored by the time it was back, restart took ${restartMs} ms, ${sent - storedAtRestart} stored after it; 0 lost, 0 duplicated; subscribers on the survivors received ${receivedAfterKill} steps after the kill`,
    );
  },
  FULL ? 600_000 : 180_000,
);

/** Steps per second of `recorders` unpaced recorders of `steps` steps each against `url`. */
async function ingestRate(url: string, token: string, recorders: number, steps: number) {
  const client = createTestTrackClient({ url, token });
  const testCase = await client.testCase.create.mutate({ title: `Ingest through ${url}` });
  const started = Date.now();
  await Promise.all(
    Array.from({ length: recorders }, async () => {
      const run = await recordExecution(client, { testCaseId: testCase.id, batchSize: 50 });
      for (let n = 1; n <= steps; n++) {
        run.step({ stepDescription: `step ${n}`, result: "pass" });
        if (n % 50 === 0) await run.flush();
      }
      await run.finish();
    }),
  );
  return Math.round((recorders * steps * 1000) / (Date.now() - started));
}

it.runIf(FULL && "path" in haproxy)(
  "measures ingest through HAProxy and three instances against one instance directly",
  async () => {
    const { member, instances, balancer } = await startCluster();
    const direct = instances[0]?.url ?? "";
    await ingestRate(balancer, member.token, RECORDERS, 200); // warm-up
    const one = await ingestRate(direct, member.token, RECORDERS, 2_500);
    const three = await ingestRate(balancer, member.token, RECORDERS, 2_500);
    console.log(
      `ingest, ${RECORDERS} recorders × 2,500 steps, batches of 50: one instance directly ${one} steps/s; three behind HAProxy ${three} steps/s (×${(three / one).toFixed(2)})`,
    );
    expect(three).toBeGreaterThan(0);
  },
  600_000,
);
