import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestTrackClient, type TestTrackClient } from "../../src/index";

const script = fileURLToPath(new URL("./shard.ts", import.meta.url));
type Kind = "passes" | "flaky" | "fails";

let server: TestServer;
let token: string;
let client: TestTrackClient;
beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await createTestPrincipal(server.database));
  client = createTestTrackClient({ url: server.url, token });
});
afterAll(() => server?.close());

function startShard(
  shard: number,
  plan: [string, Kind][],
  attempt: number,
  onLine?: (line: string, child: ChildProcess) => void,
) {
  const child = spawn(process.execPath, ["--import", "tsx", script], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    env: {
      ...process.env,
      SHARD_URL: server.url,
      SHARD_TOKEN: token,
      PLAN: JSON.stringify(plan),
      STEP_MS: "40",
      TESTTRACK_RUN_KEY: "sharded-build-1",
      TESTTRACK_SHARD: `${shard}/4`,
      TESTTRACK_RUN_ATTEMPT: String(attempt),
      GITHUB_ACTIONS: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n").filter(Boolean)) onLine?.(line, child);
    stdout += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  return new Promise<{
    code: number | null;
    signal: string | null;
    stdout: string;
    stderr: string;
  }>((resolve) => child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr })));
}

it("assembles one run from four shards with retries, one killed mid-way and re-run as attempt 1", async () => {
  const kinds: Kind[] = ["passes", "flaky", "passes", "fails"];
  const plans = [1, 2, 3, 4].map((shard) =>
    kinds.map((kind, i): [string, Kind] => [`s${shard}-t${i}-${kind}`, kind]),
  );
  let done = 0;
  const [one, two, killed, four] = await Promise.all(
    plans.map((plan, i) =>
      startShard(i + 1, plan, 0, (line, child) => {
        // Shard 3 dies (SIGKILL, as a cancelled CI job) after its second finished try.
        if (i === 2 && line.startsWith("done ") && ++done === 2) child.kill("SIGKILL");
      }),
    ),
  );
  expect(killed?.signal).toBe("SIGKILL");
  for (const shard of [one, two, four]) {
    expect(shard?.code, shard?.stderr).toBe(0);
    expect(shard?.stdout).toContain("finished: running");
  }
  const waiting = await client.run.get.query({ key: "sharded-build-1" });
  expect(waiting.status).toBe("running");

  // The CI job is re-run: attempt 1 of shard 3 joins the same run and finishes it.
  const rerun = await startShard(3, plans[2] ?? [], 1);
  expect(rerun.code, rerun.stderr).toBe(0);
  expect(rerun.stdout).toContain("finished: failed");

  const run = await client.run.get.query({ key: "sharded-build-1", limit: 100 });
  expect(run).toMatchObject({ status: "failed", expectedShards: 4, tests: 16 });
  expect([run.passed, run.flaky, run.failed]).toEqual([8, 4, 4]);
  expect(run.shards.map((s) => [s.shard, s.attempt, s.finishedAt !== null])).toEqual([
    [1, 0, true],
    [2, 0, true],
    [3, 1, true],
    [4, 0, true],
  ]);
  // Exactly one outcome per test, the one its plan says.
  const outcome = { passes: "passed", flaky: "flaky", fails: "failed" };
  const expected = plans
    .flat()
    .map(([name, kind]) => [name, outcome[kind]])
    .sort();
  const actual = run.testsPage.items.map((t) => [t.title, t.outcome]).sort();
  expect(actual).toEqual(expected);
  // No duplicate executions: each try once; none left open (the killed one is cancelled).
  for (const test of run.testsPage.items) {
    const executions = await client.execution.list.query({
      testCaseId: test.testCaseId,
      limit: 100,
    });
    const attempts = executions.items.map((e) => e.attempt);
    expect(new Set(attempts).size, test.title).toBe(attempts.length);
    expect(
      executions.items.filter((e) => e.status === "running" || e.status === "pending"),
    ).toEqual([]);
  }
}, 120_000);
