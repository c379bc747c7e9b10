import { existsSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalServer, startLocalServer } from "../src/server";
import {
  answerData,
  type Breakage,
  type BreakingProxy,
  closingTally,
  createTemporaryDatabase,
  firstInput,
  runVerify,
  startBreakingProxy,
  successAnswer,
  type TemporaryDatabase,
  type VerifyRun,
} from "./fixtures";

function expectEveryCheckPassed(run: VerifyRun) {
  const okLines = run.lines.filter((line) => line.startsWith("[OK] "));
  expect(
    run.lines.filter((line) => line.startsWith("[FAIL]")),
    run.output,
  ).toEqual([]);
  expect(closingTally(run), run.output).toEqual({ passed: okLines.length, failed: 0 });
  expect(run.exitCode, run.output).toBe(0);
}

function expectSeedScenarios(run: VerifyRun) {
  const text = run.lines.join("\n");
  expect(text).toMatch(/^\[OK\] Execution started with ID: \d+/m);
  expect(text).toMatch(/^\[OK\] Retrieved 1 execution\(s\)/m);
  expect(text).toMatch(/^\[OK\] Retrieved execution details for ID: \d+/m);
  expect(text).toMatch(/^\[OK\] Total executions: 1/m);
  expect(text).toMatch(/^\[OK\] Total Executions: 1\n {5}By Status: pending: \d+, running: \d+/m);
  expect(text).toMatch(/^ {5}Executions Last 24h: 1, Last 7d: 1, Last 30d: 1$/m);
  expect(text).toMatch(/^\[OK\] Execution \d+ deleted successfully$/m);
  expect(text).toMatch(/^\[OK\] Deletion verified - execution not found/m);
}

function expectCheckFailed(run: VerifyRun, check: string) {
  expect(
    run.lines.some((line) => line.startsWith(`[FAIL] ${check}: `)),
    run.output,
  ).toBe(true);
  expect(closingTally(run)?.failed, run.output).toBeGreaterThan(0);
  expect(run.exitCode).toBe(1);
}

describe("pnpm verify with no arguments", () => {
  it("starts a local server, passes every check, stops it and removes its folder", async () => {
    const run = await runVerify();
    expectEveryCheckPassed(run);
    expectSeedScenarios(run);
    expect(run.lines).toContain(
      "[OK] Server stopped on SIGTERM (exit code 0) and its data folder was removed",
    );
    const dataDir = /embedded database in (.+)\)$/m.exec(run.output)?.[1];
    expect(dataDir, run.output).toBeDefined();
    expect(existsSync(dataDir ?? "")).toBe(false);
  });
});

describe("breaking a scenario's server behaviour makes verify fail and name the check", () => {
  let server: LocalServer;
  let proxy: BreakingProxy | undefined;

  beforeAll(async () => {
    server = await startLocalServer();
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.stop();
  });

  async function verifyThrough(breakage: Breakage): Promise<VerifyRun> {
    await proxy?.close();
    proxy = await startBreakingProxy(server.url, breakage);
    const { email, password } = server.admin;
    return runVerify(["--url", proxy.url, `--email=${email}`, `--password=${password}`]);
  }

  it("fails 'deletion verified' when execution.delete answers but deletes nothing", async () => {
    const run = await verifyThrough(async (call, forward) => {
      if (call.procedures.join() !== "execution.delete") return forward();
      const { id } = firstInput(call) as { id: number };
      return successAnswer(call, { id });
    });
    expect(run.lines.join("\n")).toMatch(/^\[OK\] Execution \d+ deleted successfully$/m);
    expectCheckFailed(run, "deletion verified");
  });

  it("fails 'member isolation' when the member is shown the admin's execution", async () => {
    let adminAuthorization: string | undefined;
    const run = await verifyThrough(async (call, forward) => {
      const procedure = call.procedures.join();
      const asMember = adminAuthorization && call.authorization !== adminAuthorization;
      if (procedure === "execution.get" && asMember) return forward(adminAuthorization);
      const answer = await forward();
      if (procedure === "auth.login" && !adminAuthorization) {
        adminAuthorization = `Bearer ${answerData<{ token: string }>(call, answer).token}`;
      }
      return answer;
    });
    expectCheckFailed(run, "member isolation");
    expect(run.output).toMatch(
      /member's execution.get of the admin's execution \d+: expected NOT_FOUND, but it succeeded/,
    );
  });
});

const postgresUrl = process.env.TEST_DATABASE_URL;

describe.runIf(postgresUrl)("pnpm verify --url against a server on PostgreSQL", () => {
  let database: TemporaryDatabase;
  let server: LocalServer;

  beforeAll(async () => {
    database = await createTemporaryDatabase(postgresUrl ?? "");
    server = await startLocalServer({ databaseUrl: database.url });
  });
  afterAll(async () => {
    await server?.stop();
    await database?.drop();
  });

  it("passes every check and removes what it created", async () => {
    const { email, password } = server.admin;
    const run = await runVerify([
      "--url",
      server.url,
      `--email=${email}`,
      `--password=${password}`,
    ]);
    expectEveryCheckPassed(run);
    expectSeedScenarios(run);
    expect(await database.countRows("test_cases")).toBe(0);
    expect(await database.countRows("test_executions")).toBe(0);
    expect(await database.countRows("users")).toBe(1);
    // Only the admin's personal project is left.
    expect(await database.countRows("projects")).toBe(1);
    expect(run.output).toMatch(
      /^\[OK\] Run verify-build-\w+ of 2 shards with a retry: failed with 1 flaky \(login\) and 1 new failure \(checkout\) against base run \d+$/m,
    );
    expect(await database.countRows("runs")).toBe(0);
    expect(run.output).toMatch(
      /^\[OK\] Project verify-\w+ shared by .+ the viewer reads it but gets FORBIDDEN for writes, an outsider gets NOT_FOUND$/m,
    );
  });
});
