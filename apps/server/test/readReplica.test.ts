import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/app";
import { loadConfig } from "../src/config";
import { createClient, createTestPrincipal, silentLog } from "./fixtures";

/**
 * DATABASE_READ_URL against a real streaming replica: a primary and a `pg_basebackup -R` copy of
 * it, both from PostgreSQL's own binaries (Debian's postgresql package), in a temporary folder.
 */
const pgBin = ["/usr/lib/postgresql"]
  .filter(existsSync)
  .flatMap((root) => readdirSync(root).map((version) => join(root, version, "bin")))
  .sort()
  .reverse()
  .find((bin) =>
    ["initdb", "pg_ctl", "pg_basebackup", "postgres"].every((tool) => existsSync(join(bin, tool))),
  );
if (!pgBin) {
  console.log(
    "SKIPPED the read replica test: PostgreSQL's binaries (initdb, pg_ctl, pg_basebackup) are not in /usr/lib/postgresql/*/bin; install Debian's postgresql package",
  );
}

const MAX_LAG_MS = 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PostgreSQL refuses to run as root: as root, its tools run as the `postgres` account. */
function account(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
  const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
  return { uid, gid };
}

function freePortSync(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return Number(execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }));
}

describe.skipIf(!pgBin)("a read replica (DATABASE_READ_URL)", () => {
  const bin = (tool: string) => join(pgBin ?? "", tool);
  const owner = account();
  const run = (tool: string, args: string[]) =>
    execFileSync(bin(tool), args, { stdio: "pipe", ...(owner ?? {}), timeout: 120_000 });

  let dir: string;
  let replicaDir: string;
  let replicaPort: number;
  let primaryUrl: string;
  let replicaUrl: string;
  let server: RunningServer;
  let replicaSql: postgres.Sql;
  /** A member's two API tokens: one that writes over HTTP, one that only reads. */
  let writer: ReturnType<typeof createClient>;
  let reader: ReturnType<typeof createClient>;
  let member: Awaited<ReturnType<typeof createTestPrincipal>>;

  const startCluster = (dataDir: string, port: number) =>
    run("pg_ctl", [
      "-D",
      dataDir,
      "-l",
      `${dataDir}.log`,
      "-w",
      "-o",
      `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off`,
      "start",
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "testtrack-replica-"));
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const primaryDir = join(dir, "primary");
    replicaDir = join(dir, "replica");
    const primaryPort = freePortSync();
    replicaPort = freePortSync();
    // initdb's pg_hba.conf lets local replication connections in with trust.
    run("initdb", ["-D", primaryDir, "-U", "postgres", "-A", "trust", "--no-sync"]);
    startCluster(primaryDir, primaryPort);
    run("pg_basebackup", [
      ...["-h", "127.0.0.1", "-p", String(primaryPort), "-U", "postgres"],
      ...["-D", replicaDir, "-R", "-X", "stream", "--no-sync"],
    ]);
    startCluster(replicaDir, replicaPort);
    primaryUrl = `postgres://postgres@127.0.0.1:${primaryPort}/postgres`;
    replicaUrl = `postgres://postgres@127.0.0.1:${replicaPort}/postgres`;

    server = await startServer(
      loadConfig({
        PORT: "0",
        LOG_LEVEL: "silent",
        TESTTRACK_DATA_DIR: dir,
        DATABASE_URL: primaryUrl,
        DATABASE_READ_URL: replicaUrl,
        TESTTRACK_READ_MAX_LAG_MS: String(MAX_LAG_MS),
        TESTTRACK_ADMIN_EMAIL: "admin@example.test",
        TESTTRACK_ADMIN_PASSWORD: "a long admin password",
      }),
      silentLog,
    );
    member = await createTestPrincipal(server.database);
    const second = await member.caller.auth.createApiToken({ name: "reader" });
    writer = createClient(`${server.url}/trpc`, member.token);
    reader = createClient(`${server.url}/trpc`, second.token);
    replicaSql = postgres(replicaUrl, { max: 1, onnotice: () => {} });
  }, 180_000);

  afterAll(async () => {
    await replicaSql?.end();
    await server?.close();
    for (const cluster of ["replica", "primary"]) {
      try {
        run("pg_ctl", ["-D", join(dir, cluster), "-m", "immediate", "stop"]);
      } catch {
        // Stopped by the test already.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Queries on test_executions that the replica's backends ran (the lag probe excluded). */
  async function executionQueriesOnReplica(): Promise<string[]> {
    const rows = await replicaSql<{ query: string }[]>`
      select query from pg_stat_activity
      where backend_type = 'client backend' and pid <> pg_backend_pid()
        and query ilike '%test_executions%'`;
    return rows.map((row) => row.query);
  }

  async function onReplica(executionId: number) {
    for (let i = 0; i < 100; i++) {
      const [row] = await replicaSql`select 1 from test_executions where id = ${executionId}`;
      if (row) return;
      await sleep(50);
    }
    throw new Error(`execution ${executionId} never reached the replica`);
  }

  const listedIds = async (client: ReturnType<typeof createClient>) =>
    (await client.execution.list.query({ limit: 100 })).items.map((e) => e.id);

  it("serves execution.list from the replica: its pg_stat_activity sees the query", async () => {
    const testCase = await member.caller.testCase.create({ title: "Read from the replica" });
    const { executionId } = await member.caller.execution.start({ testCaseId: testCase.id });
    const written = Date.now();
    await onReplica(executionId);
    console.log(
      `a write reached the replica (visible to a query there) in ${Date.now() - written} ms`,
    );
    await sleep(600); // a lag probe sees the replica caught up
    expect(await executionQueriesOnReplica()).toEqual([]);
    expect(await listedIds(reader)).toContain(executionId);
    const seen = await executionQueriesOnReplica();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.join("\n")).toMatch(/from "test_executions"/);
  });

  it("reads a client's own write from the primary, while another client reads the replica until it lags too far", async () => {
    // The replica stops applying WAL: whatever is written now is on the primary only.
    await replicaSql`select pg_wal_replay_pause()`;
    try {
      const testCase = await writer.testCase.create.mutate({ title: "Read your writes" });
      const { executionId } = await writer.execution.start.mutate({ testCaseId: testCase.id });
      expect(await listedIds(writer)).toContain(executionId);
      // Another token of the same member wrote nothing: the replica answers, without it.
      expect(await listedIds(reader)).not.toContain(executionId);
      // Past the lag bound, the lagging replica is left for the primary.
      await sleep(MAX_LAG_MS + 500);
      expect(await listedIds(reader)).toContain(executionId);
    } finally {
      await replicaSql`select pg_wal_replay_resume()`;
    }
  });

  it("falls back to the primary when the replica is stopped, and reads from it again once it is back", async () => {
    const testCase = await member.caller.testCase.create({ title: "Replica down" });
    const { executionId } = await member.caller.execution.start({ testCaseId: testCase.id });
    await replicaSql.end();
    run("pg_ctl", ["-D", replicaDir, "-m", "fast", "-w", "stop"]);
    await sleep(600); // a lag probe finds it gone
    for (let i = 0; i < 5; i++) expect(await listedIds(reader)).toContain(executionId);
    await writer.testCase.list.query({});

    startCluster(replicaDir, replicaPort);
    replicaSql = postgres(replicaUrl, { max: 1, onnotice: () => {} });
    await onReplica(executionId);
    await sleep(600);
    expect(await executionQueriesOnReplica()).toEqual([]);
    expect(await listedIds(reader)).toContain(executionId);
    expect((await executionQueriesOnReplica()).length).toBeGreaterThan(0);
  }, 60_000);
});
