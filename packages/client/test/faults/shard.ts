// One shard of a CI build, as a reporter would record it: run with `node --import tsx`, it joins
// the run named by TESTTRACK_RUN_KEY / TESTTRACK_SHARD / TESTTRACK_RUN_ATTEMPT and records its
// tests with retries (PLAN: JSON [name, "passes" | "flaky" | "fails"][]), one "done" line each.
import { createTestTrackClient } from "../../src/index";
import {
  RunJoin,
  recordExecutionInRun,
  TestCaseCatalog,
  testCaseKey,
} from "../../src/reporting/index";

const RETRIES = 1;
const warn = (message: string) => process.stderr.write(`shard: ${message}\n`);
const client = createTestTrackClient({
  url: process.env.SHARD_URL ?? "",
  token: process.env.SHARD_TOKEN ?? "",
});
const plan = JSON.parse(process.env.PLAN ?? "[]") as [string, "passes" | "flaky" | "fails"][];
const join = new RunJoin(client, {}, { name: "shards" }, warn);
const catalog = new TestCaseCatalog(client, {});
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const [name, kind] of plan) {
  const testCaseId = await catalog.idFor(testCaseKey(["shards.spec.ts", name]), name, []);
  for (let retry = 0; retry <= RETRIES; retry++) {
    const result = kind === "passes" || (kind === "flaky" && retry > 0) ? "pass" : "fail";
    const run = await recordExecutionInRun(
      client,
      { testCaseId, attempt: join.executionAttempt(retry) },
      join,
      warn,
    );
    await pause(Number(process.env.STEP_MS ?? 0));
    await run.finish({ result, errorMessage: result === "fail" ? `${name} failed` : undefined });
    process.stdout.write(`done ${name} ${retry}\n`);
    if (result === "pass") break;
  }
}
process.stdout.write(`finished: ${await join.finish()}\n`);
