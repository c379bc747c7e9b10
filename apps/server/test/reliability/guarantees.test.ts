import { LIMITS } from "@testtrack/core";
import { createTRPCClient, httpBatchLink, httpLink, TRPCClientError } from "@trpc/client";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppRouter } from "../../src/router";
import { createTestPrincipal, startTestServer, type TestServer } from "../fixtures";
import { tableSnapshot } from "./snapshot";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

/** A client over real HTTP; `batch: false` sends every call as its own request, in parallel. */
function clientFor(token: string, batch = false) {
  const link = batch ? httpBatchLink : httpLink;
  return createTRPCClient<AppRouter>({
    links: [link({ url: server.trpcUrl, headers: { authorization: `Bearer ${token}` } })],
  });
}

async function memberWithExecution() {
  const member = await createTestPrincipal(server.database);
  const client = clientFor(member.token);
  const testCase = await client.testCase.create.mutate({ title: "Concurrent run" });
  const started = await client.execution.start.mutate({ testCaseId: testCase.id });
  return { member, client, testCase, executionId: started.executionId };
}

const codeOf = (error: unknown) =>
  error instanceof TRPCClientError
    ? (error.data as { code?: string } | undefined)?.code
    : "NOT_TRPC";

describe("concurrency", () => {
  it("ends 100 concurrent step uploads into one execution with exact summary counts", async () => {
    const { client, executionId } = await memberWithExecution();
    const results = ["pass", "fail", "skip", "error"] as const;
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        client.step.record.mutate({
          executionId,
          steps: {
            stepNumber: i + 1,
            stepDescription: `step ${i + 1}`,
            result: results[i % 4] ?? "pass",
          },
        }),
      ),
    );
    const execution = await client.execution.get.query({ id: executionId });
    expect(execution.steps).toHaveLength(100);
    expect(execution).toMatchObject({
      status: "running",
      totalSteps: 100,
      passedSteps: 25,
      failedSteps: 50,
      skippedSteps: 25,
      result: "fail",
    });
  });

  it("lets exactly one of many concurrent finishing updates win, and the final state is legal", async () => {
    const { client, executionId } = await memberWithExecution();
    await client.execution.update.mutate({ id: executionId, status: "running" });
    const targets = ["completed", "failed", "cancelled"] as const;
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        client.execution.update.mutate({
          id: executionId,
          status: targets[i % 3] ?? "completed",
          result: i % 3 === 0 ? "pass" : "fail",
        }),
      ),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o) => o.status === "rejected");
    const final = await client.execution.get.query({ id: executionId });
    // The same finishing update repeated is a no-op; every other one is a CONFLICT.
    for (const o of won)
      expect((o as PromiseFulfilledResult<{ status: string }>).value.status).toBe(final.status);
    for (const o of refused) expect(codeOf((o as PromiseRejectedResult).reason)).toBe("CONFLICT");
    expect(won.length).toBe(10);
    expect(["completed", "failed", "cancelled"]).toContain(final.status);
    expect(final.completedAt).not.toBeNull();
  });
});

describe("idempotency", () => {
  it("returns one execution for 20 parallel starts with the same key, and CONFLICT for the key with other input", async () => {
    const member = await createTestPrincipal(server.database);
    const client = clientFor(member.token);
    const testCase = await client.testCase.create.mutate({ title: "Idempotent start" });
    const input = { testCaseId: testCase.id, browser: "webkit", idempotencyKey: "ci-build-1842" };
    const started = await Promise.all(
      Array.from({ length: 20 }, () => client.execution.start.mutate(input)),
    );
    expect(new Set(started.map((s) => s.executionId)).size).toBe(1);
    const list = await client.execution.list.query({ testCaseId: testCase.id });
    expect(list.total).toBe(1);
    await expect(
      client.execution.start.mutate({ ...input, browser: "firefox" }),
    ).rejects.toMatchObject({ data: { code: "CONFLICT" } });
    expect((await client.execution.list.query({ testCaseId: testCase.id })).total).toBe(1);
  });

  it("treats 20 parallel retries of the same step upload as one", async () => {
    const { client, executionId } = await memberWithExecution();
    const steps = Array.from({ length: 10 }, (_, i) => ({
      stepNumber: i + 1,
      stepDescription: `step ${i + 1}`,
      result: "pass" as const,
    }));
    await Promise.all(
      Array.from({ length: 20 }, () => client.step.record.mutate({ executionId, steps })),
    );
    const execution = await client.execution.get.query({ id: executionId });
    expect(execution.steps).toHaveLength(10);
    expect(execution.totalSteps).toBe(10);
  });
});

describe("mass assignment", () => {
  it("refuses owner, role, counts and ids smuggled into inputs, and changes nothing", async () => {
    const { member, client, testCase, executionId } = await memberWithExecution();
    const before = await tableSnapshot(server.database.db);
    const attempts: (() => Promise<unknown>)[] = [
      () => client.testCase.create.mutate({ title: "x", userId: 1 } as never),
      () => client.testCase.update.mutate({ id: testCase.id, userId: 1 } as never),
      () => client.execution.start.mutate({ testCaseId: testCase.id, userId: 1 } as never),
      () =>
        client.execution.start.mutate({ testCaseId: testCase.id, status: "completed" } as never),
      () => client.execution.update.mutate({ id: executionId, totalSteps: 99 } as never),
      () => client.execution.update.mutate({ id: executionId, passedSteps: 99 } as never),
      () => client.execution.update.mutate({ id: executionId, testCaseId: 1 } as never),
      () => client.execution.update.mutate({ id: executionId, userId: 1 } as never),
      () =>
        client.step.record.mutate({
          executionId,
          steps: [{ stepNumber: 1, stepDescription: "s", result: "pass", executionId: 1, id: 5 }],
        } as never),
      () => client.auth.createApiToken.mutate({ name: "t", userId: 1 } as never),
      () =>
        client.auth.login.mutate({ email: member.email, password: "x", role: "admin" } as never),
    ];
    for (const attempt of attempts) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(codeOf(error)).toBe("BAD_REQUEST");
      expect((error as TRPCClientError<AppRouter>).message).toMatch(/unrecognized key/i);
    }
    await expect(
      client.user.create.mutate({
        email: "x@example.test",
        name: "x",
        password: "long enough pw",
        role: "admin",
      }),
    ).rejects.toMatchObject({ data: { code: "FORBIDDEN" } });
    expect(await tableSnapshot(server.database.db)).toEqual(before);
  });
});

describe("limits", () => {
  it("refuses every over-long string, too many steps, a too large page and a too long body", async () => {
    const { client, testCase, executionId } = await memberWithExecution();
    const long = (n: number) => "x".repeat(n + 1);
    const refusals: [string, () => Promise<unknown>][] = [
      ["title", () => client.testCase.create.mutate({ title: long(LIMITS.title) })],
      [
        "description",
        () => client.testCase.create.mutate({ title: "t", description: long(LIMITS.text) }),
      ],
      ["tag", () => client.testCase.create.mutate({ title: "t", tags: [long(LIMITS.tag)] })],
      [
        "tags",
        () =>
          client.testCase.create.mutate({
            title: "t",
            tags: Array.from({ length: LIMITS.tags + 1 }, (_, i) => `t${i}`),
          }),
      ],
      [
        "browser",
        () =>
          client.execution.start.mutate({
            testCaseId: testCase.id,
            browser: long(LIMITS.shortLabel),
          }),
      ],
      [
        "environment",
        () =>
          client.execution.start.mutate({
            testCaseId: testCase.id,
            environment: long(LIMITS.shortLabel),
          }),
      ],
      [
        "baseUrl",
        () =>
          client.execution.start.mutate({
            testCaseId: testCase.id,
            baseUrl: `https://e.test/${long(LIMITS.url)}`,
          }),
      ],
      [
        "triggerDetails",
        () =>
          client.execution.start.mutate({
            testCaseId: testCase.id,
            triggerDetails: long(LIMITS.text),
          }),
      ],
      [
        "idempotencyKey",
        () =>
          client.execution.start.mutate({
            testCaseId: testCase.id,
            idempotencyKey: long(LIMITS.idempotencyKey),
          }),
      ],
      [
        "errorMessage",
        () =>
          client.execution.update.mutate({ id: executionId, errorMessage: long(LIMITS.message) }),
      ],
      [
        "screenshotPath",
        () =>
          client.execution.update.mutate({ id: executionId, screenshotPath: long(LIMITS.path) }),
      ],
      [
        "stepDescription",
        () =>
          client.step.record.mutate({
            executionId,
            steps: { stepNumber: 1, stepDescription: long(LIMITS.text), result: "pass" },
          }),
      ],
      [
        "steps per call",
        () =>
          client.step.record.mutate({
            executionId,
            steps: Array.from({ length: LIMITS.stepsPerCall + 1 }, (_, i) => ({
              stepNumber: i + 1,
              stepDescription: "s",
              result: "pass" as const,
            })),
          }),
      ],
      ["page size", () => client.execution.list.query({ limit: LIMITS.pageSize + 1 })],
      ["negative skip", () => client.execution.list.query({ skip: -1 })],
    ];
    for (const [field, call] of refusals) {
      const error = await call().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(codeOf(error), field).toBe("BAD_REQUEST");
    }
    expect((await client.execution.get.query({ id: executionId })).totalSteps).toBe(0);
  });

  it(`refuses steps beyond ${LIMITS.stepsPerExecution} per execution`, async () => {
    const { member, executionId } = await memberWithExecution();
    const db = server.database.db;
    // Fill the execution to its limit directly; the API refuses the one step more.
    await db.execute(sql`insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result)
      select e.id, e.created_at, n, 'bulk', 'pass' from test_executions e, generate_series(1, ${LIMITS.stepsPerExecution}) as n
      where e.id = ${executionId}`);
    const client = clientFor(member.token);
    await expect(
      client.step.record.mutate({
        executionId,
        steps: { stepNumber: LIMITS.stepsPerExecution, stepDescription: "retry", result: "pass" },
      }),
    ).resolves.toMatchObject({
      steps: [{ stepNumber: LIMITS.stepsPerExecution, stepDescription: "bulk" }],
    });
    // Step numbers run from 1 to the limit, so a full execution has no room for another.
    const error = await client.step.record
      .mutate({
        executionId,
        steps: {
          stepNumber: LIMITS.stepsPerExecution + 1,
          stepDescription: "more",
          result: "pass",
        },
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(codeOf(error)).toBe("BAD_REQUEST");
    const extra = await client.step.record
      .mutate({
        executionId,
        steps: [
          { stepNumber: 1, stepDescription: "dup", result: "pass" },
          { stepNumber: 2, stepDescription: "dup", result: "pass" },
        ],
      })
      .then(
        () => "stored",
        (e: unknown) => codeOf(e),
      );
    expect(extra).toBe("stored"); // both numbers already exist: an idempotent retry
  });
});

describe("secrets at rest", () => {
  it("stores no raw token and only argon2id password hashes with OWASP parameters", async () => {
    const member = await createTestPrincipal(server.database);
    const client = clientFor(member.token);
    const apiToken = await client.auth.createApiToken.mutate({ name: "CI" });
    const login = await createTRPCClient<AppRouter>({
      links: [httpLink({ url: server.trpcUrl })],
    }).auth.login.mutate({ email: member.email, password: "correct horse battery staple" });
    const db = server.database.db;
    const dump = JSON.stringify(
      await Promise.all(
        ["users", "api_tokens", "login_throttle", "test_cases", "test_executions"].map((table) =>
          db.execute(sql.raw(`select * from ${table}`)),
        ),
      ),
    );
    for (const token of [member.token, apiToken.token, login.token]) {
      expect(dump).not.toContain(token);
      expect(dump).not.toContain(token.slice(3));
    }
    expect(dump).not.toContain("correct horse battery staple");
    const hashes = (await db.execute(sql`select password_hash from users`)) as unknown as
      | { rows: { password_hash: string }[] }
      | { password_hash: string }[];
    const rows = Array.isArray(hashes) ? hashes : hashes.rows;
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows)
      expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
  });
});
