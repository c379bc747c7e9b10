import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import type { Actor } from "../src/actor";
import { ConflictError, NotFoundError } from "../src/errors";
import {
  countExecutions,
  deleteExecution,
  executionHistory,
  getExecution,
  listExecutions,
  startExecution,
  updateExecution,
} from "../src/executions";
import { NEXT_STATUSES } from "../src/lifecycle";
import {
  EXECUTION_STATUSES,
  type ExecutionStatus,
  testExecutionSteps,
  testExecutions,
} from "../src/schema";
import { recordSteps } from "../src/steps";
import { failStuckExecutions } from "../src/stuckExecutions";
import {
  createExecutionScenario,
  createTestCaseFor,
  createTestUser,
  insertExecution,
  openTestDatabase,
  rejectionOf,
  startExecutionFor,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const MISSING_ID = 2_000_000_000;

function executionRow(executionId: number) {
  return h.db
    .select()
    .from(testExecutions)
    .where(eq(testExecutions.id, executionId))
    .then(([row]) => row);
}

describe("startExecution", () => {
  it("creates a pending execution with the run's details", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const started = await startExecution(h.db, member.actor, {
      testCaseId: testCase.id,
      browser: "firefox",
      environment: "staging",
      baseUrl: "https://staging.example.test",
      triggeredBy: "ci_cd",
      triggerDetails: "pipeline 42",
    });
    expect(started).toMatchObject({ testCaseId: testCase.id, status: "pending" });
    expect(started.message).toContain(String(started.executionId));
    expect(await executionRow(started.executionId)).toMatchObject({
      userId: member.id,
      status: "pending",
      result: null,
      startedAt: null,
      browser: "firefox",
      environment: "staging",
      baseUrl: "https://staging.example.test",
      triggeredBy: "ci_cd",
      triggerDetails: "pipeline 42",
      totalSteps: 0,
    });
  });

  it("defaults triggeredBy to manual and leaves optional details empty", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const { executionId } = await startExecution(h.db, member.actor, { testCaseId: testCase.id });
    expect(await executionRow(executionId)).toMatchObject({
      triggeredBy: "manual",
      browser: null,
      environment: null,
      baseUrl: null,
    });
  });

  it("stores browser and environment in lower case", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const executionId = await startExecutionFor(h, member.actor, testCase.id, {
      browser: " Chromium ",
      environment: "STAGING",
    });
    expect(await executionRow(executionId)).toMatchObject({
      browser: "chromium",
      environment: "staging",
    });
  });

  it("rejects a non-http base URL", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    await expect(
      startExecution(h.db, member.actor, { testCaseId: testCase.id, baseUrl: "ftp://x.test" }),
    ).rejects.toThrow(ZodError);
  });

  it("answers NOT_FOUND for another member's test case and creates nothing", async () => {
    const owner = await createTestUser(h);
    const other = await createTestUser(h);
    const testCase = await createTestCaseFor(h, owner.actor);
    await expect(
      startExecution(h.db, other.actor, { testCaseId: testCase.id }),
    ).rejects.toStrictEqual(new NotFoundError("Test case", testCase.id));
    expect(await countExecutions(h.db, other.actor, {})).toBe(0);
  });

  it("lets an admin start an execution of a member's test case, owned by the admin", async () => {
    const owner = await createTestUser(h);
    const admin = await createTestUser(h, "admin");
    const testCase = await createTestCaseFor(h, owner.actor);
    const executionId = await startExecutionFor(h, admin.actor, testCase.id);
    expect(await executionRow(executionId)).toMatchObject({
      testCaseId: testCase.id,
      userId: admin.id,
    });
  });
});

describe("startExecution with an idempotency key", () => {
  it("returns the first execution when the same request is repeated", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const request = {
      testCaseId: testCase.id,
      browser: "chromium",
      idempotencyKey: "run-1",
    };
    const first = await startExecution(h.db, member.actor, request);
    const again = await startExecution(h.db, member.actor, { ...request, browser: "Chromium" });
    expect(again.executionId).toBe(first.executionId);
    expect(again.testCaseId).toBe(testCase.id);
    const rows = await h.db
      .select()
      .from(testExecutions)
      .where(and(eq(testExecutions.userId, member.id), eq(testExecutions.idempotencyKey, "run-1")));
    expect(rows).toHaveLength(1);
  });

  it("refuses the same key with a different request as CONFLICT", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    await startExecution(h.db, member.actor, {
      testCaseId: testCase.id,
      browser: "chromium",
      idempotencyKey: "run-2",
    });
    const error = await rejectionOf(
      startExecution(h.db, member.actor, {
        testCaseId: testCase.id,
        browser: "firefox",
        idempotencyKey: "run-2",
      }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain("run-2");
    expect(await countExecutions(h.db, member.actor, {})).toBe(1);
  });

  it("keeps keys apart per user", async () => {
    const first = await createExecutionScenario(h, { idempotencyKey: "shared-key" });
    const second = await createExecutionScenario(h, { idempotencyKey: "shared-key" });
    expect(second.executionId).not.toBe(first.executionId);
  });

  it("creates a new execution for every start without a key", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const a = await startExecutionFor(h, member.actor, testCase.id);
    const b = await startExecutionFor(h, member.actor, testCase.id);
    expect(a).not.toBe(b);
    expect(await countExecutions(h.db, member.actor, {})).toBe(2);
  });

  it("creates exactly one row when duplicate starts with one key run in parallel", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        startExecution(h.db, member.actor, {
          testCaseId: testCase.id,
          environment: "ci",
          idempotencyKey: "parallel",
        }),
      ),
    );
    const ids = new Set(results.map((r) => r.executionId));
    expect(ids.size).toBe(1);
    expect(await countExecutions(h.db, member.actor, {})).toBe(1);
  });
});

describe("getExecution", () => {
  it("returns every column, the test case title and the steps in step order", async () => {
    const { actor, testCase, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, {
      executionId,
      steps: [
        { stepNumber: 3, stepDescription: "third", result: "pass" },
        { stepNumber: 1, stepDescription: "first", result: "pass" },
      ],
    });
    await recordSteps(h.db, actor, {
      executionId,
      steps: { stepNumber: 2, stepDescription: "second", result: "skip" },
    });
    const detail = await getExecution(h.db, actor, { id: executionId });
    expect(detail).toMatchObject({
      id: executionId,
      testCaseId: testCase.id,
      testCaseTitle: testCase.title,
      status: "running",
      totalSteps: 3,
      consoleLog: null,
    });
    expect(detail.steps.map((s) => [s.stepNumber, s.stepDescription])).toEqual([
      [1, "first"],
      [2, "second"],
      [3, "third"],
    ]);
    expect(detail).not.toHaveProperty("idempotencyKey");
    expect(detail).not.toHaveProperty("idempotencyFingerprint");
  });
});

describe("listExecutions and countExecutions filters", () => {
  let member: Actor;
  let caseP: number;
  let caseQ: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    const user = await createTestUser(h);
    member = user.actor;
    caseP = (await createTestCaseFor(h, member)).id;
    caseQ = (await createTestCaseFor(h, member)).id;
    const base = Date.now() - 60 * 60 * 1000;
    const rows = [
      ["e1", caseP, "completed", "pass", "chromium", "staging"],
      ["e2", caseP, "failed", "fail", "firefox", "staging"],
      ["e3", caseP, "running", null, "chromium", "production"],
      ["e4", caseQ, "completed", "pass", "firefox", "production"],
      ["e5", caseQ, "cancelled", "skip", "webkit", "staging"],
      ["e6", caseQ, "completed", "error", "chromium", "staging"],
    ] as const;
    for (const [i, [name, testCaseId, status, result, browser, environment]] of rows.entries()) {
      const row = await insertExecution(h, {
        userId: user.id,
        testCaseId,
        status,
        result,
        browser,
        environment,
        createdAt: new Date(base + i * 1000),
      });
      ids[name] = row.id;
    }
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ["no filter", {}, ["e6", "e5", "e4", "e3", "e2", "e1"]],
    ["status", { status: "completed" }, ["e6", "e4", "e1"]],
    ["result", { result: "pass" }, ["e4", "e1"]],
    ["browser", { browser: "chromium" }, ["e6", "e3", "e1"]],
    ["environment", { environment: "staging" }, ["e6", "e5", "e2", "e1"]],
    ["testCaseId", { testCaseId: "P" }, ["e3", "e2", "e1"]],
    ["status + browser", { status: "completed", browser: "chromium" }, ["e6", "e1"]],
    ["result + browser", { result: "pass", browser: "firefox" }, ["e4"]],
    ["environment + testCaseId", { environment: "production", testCaseId: "Q" }, ["e4"]],
    [
      "status + environment + testCaseId",
      { status: "completed", environment: "staging", testCaseId: "Q" },
      ["e6"],
    ],
    [
      "all five",
      {
        status: "completed",
        result: "pass",
        browser: "chromium",
        environment: "staging",
        testCaseId: "P",
      },
      ["e1"],
    ],
    ["contradicting filters", { status: "running", result: "pass" }, []],
  ];

  for (const [name, rawFilters, expected] of cases) {
    it(`filters by ${name} in list and count alike`, async () => {
      const filters = {
        ...rawFilters,
        ...(rawFilters.testCaseId
          ? { testCaseId: rawFilters.testCaseId === "P" ? caseP : caseQ }
          : {}),
      };
      const page = await listExecutions(h.db, member, filters);
      expect(page.items.map((e) => e.id)).toEqual(expected.map((key) => ids[key]));
      expect(page.total).toBe(expected.length);
      expect(await countExecutions(h.db, member, filters)).toBe(expected.length);
    });
  }

  it("matches browser and environment filters whatever their case", async () => {
    const page = await listExecutions(h.db, member, {
      browser: "CHROMIUM",
      environment: "Staging",
    });
    expect(page.items.map((e) => e.id)).toEqual([ids.e6, ids.e1]);
  });

  it("returns list rows with the test case title and without the console log", async () => {
    const page = await listExecutions(h.db, member, { testCaseId: caseP, limit: 1 });
    const [item] = page.items;
    expect(item?.testCaseTitle).toEqual(expect.any(String));
    expect(item).not.toHaveProperty("consoleLog");
    expect(item).not.toHaveProperty("idempotencyKey");
  });

  it("gives an empty page with the right total when skip is beyond the total", async () => {
    expect(await listExecutions(h.db, member, { skip: 6 })).toMatchObject({
      items: [],
      total: 6,
      skip: 6,
      limit: 50,
    });
    expect(await listExecutions(h.db, member, { skip: 1000, limit: 1 })).toMatchObject({
      items: [],
      total: 6,
      skip: 1000,
      limit: 1,
    });
  });

  it("pages one row at a time with limit 1", async () => {
    const first = await listExecutions(h.db, member, { limit: 1 });
    const second = await listExecutions(h.db, member, { skip: 1, limit: 1 });
    const last = await listExecutions(h.db, member, { skip: 5, limit: 1 });
    expect(first.items.map((e) => e.id)).toEqual([ids.e6]);
    expect(second.items.map((e) => e.id)).toEqual([ids.e5]);
    expect(last.items.map((e) => e.id)).toEqual([ids.e1]);
    expect([first.total, second.total, last.total]).toEqual([6, 6, 6]);
  });

  it("accepts limit 100 and rejects limit 101, limit 0 and a negative skip", async () => {
    const page = await listExecutions(h.db, member, { limit: 100 });
    expect(page).toMatchObject({ total: 6, limit: 100 });
    expect(page.items).toHaveLength(6);
    await expect(listExecutions(h.db, member, { limit: 101 })).rejects.toThrow(ZodError);
    await expect(listExecutions(h.db, member, { limit: 0 })).rejects.toThrow(ZodError);
    await expect(listExecutions(h.db, member, { skip: -1 })).rejects.toThrow(ZodError);
  });

  it("rejects an unknown status or result", async () => {
    await expect(listExecutions(h.db, member, { status: "done" } as never)).rejects.toThrow(
      ZodError,
    );
    await expect(countExecutions(h.db, member, { result: "ok" } as never)).rejects.toThrow(
      ZodError,
    );
  });
});

describe("executions started through startExecution", () => {
  it("are found by a lower-case filter after starting with mixed case", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const executionId = await startExecutionFor(h, member.actor, testCase.id, {
      browser: "Chromium",
      environment: "QA-Europe",
    });
    await startExecutionFor(h, member.actor, testCase.id, { browser: "firefox" });
    const page = await listExecutions(h.db, member.actor, {
      browser: "chromium",
      environment: "qa-europe",
    });
    expect(page.items.map((e) => e.id)).toEqual([executionId]);
    expect(page.items[0]).toMatchObject({ browser: "chromium", environment: "qa-europe" });
  });
});

describe("access to executions", () => {
  it("lists only a member's own executions, while an admin lists everyone's", async () => {
    const mine = await createExecutionScenario(h);
    const theirs = await createExecutionScenario(h);
    const admin = await createTestUser(h, "admin");

    const page = await listExecutions(h.db, mine.actor, {});
    expect(page.items.map((e) => e.id)).toEqual([mine.executionId]);
    expect(page.items.every((e) => e.userId === mine.user.id)).toBe(true);
    expect(await countExecutions(h.db, mine.actor, {})).toBe(1);

    const seenByMember = await listExecutions(h.db, mine.actor, {
      testCaseId: theirs.testCase.id,
    });
    expect(seenByMember).toMatchObject({ items: [], total: 0 });

    const adminPage = await listExecutions(h.db, admin.actor, { limit: 100 });
    const adminIds = adminPage.items.map((e) => e.id);
    expect(adminIds).toEqual(expect.arrayContaining([mine.executionId, theirs.executionId]));
    expect(adminPage.total).toBe(await countExecutions(h.db, admin.actor, {}));
    expect(adminPage.total).toBeGreaterThan(page.total);
  });

  it("hides another member's execution as NOT_FOUND, exactly like a missing id", async () => {
    const owner = await createExecutionScenario(h);
    const other = await createTestUser(h);
    const id = owner.executionId;
    const attempts = [
      () => getExecution(h.db, other.actor, { id }),
      () => updateExecution(h.db, other.actor, { id, status: "running" }),
      () => deleteExecution(h.db, other.actor, { id }),
    ];
    for (const attempt of attempts) {
      await expect(attempt()).rejects.toStrictEqual(new NotFoundError("Execution", id));
    }
    await expect(getExecution(h.db, other.actor, { id: MISSING_ID })).rejects.toStrictEqual(
      new NotFoundError("Execution", MISSING_ID),
    );
    expect(await executionRow(id)).toMatchObject({ status: "pending" });
  });

  it("lets an admin get, update and delete any member's execution", async () => {
    const owner = await createExecutionScenario(h);
    const admin = await createTestUser(h, "admin");
    const id = owner.executionId;
    expect((await getExecution(h.db, admin.actor, { id })).userId).toBe(owner.user.id);
    const updated = await updateExecution(h.db, admin.actor, { id, status: "running" });
    expect(updated).toMatchObject({ status: "running", userId: owner.user.id });
    expect(await deleteExecution(h.db, admin.actor, { id })).toEqual({ id });
    expect(await executionRow(id)).toBeUndefined();
  });
});

describe("executionHistory", () => {
  it("lists the executions of one test case, newest first", async () => {
    const member = await createTestUser(h);
    const testCase = await createTestCaseFor(h, member.actor);
    const otherCase = await createTestCaseFor(h, member.actor);
    const first = await startExecutionFor(h, member.actor, testCase.id);
    await startExecutionFor(h, member.actor, otherCase.id);
    const second = await startExecutionFor(h, member.actor, testCase.id);
    const page = await executionHistory(h.db, member.actor, { testCaseId: testCase.id });
    expect(page).toMatchObject({ total: 2, skip: 0, limit: 50 });
    expect(page.items.map((e) => e.id)).toEqual([second, first]);
    const paged = await executionHistory(h.db, member.actor, {
      testCaseId: testCase.id,
      skip: 1,
      limit: 1,
    });
    expect(paged).toMatchObject({ total: 2, skip: 1, limit: 1 });
    expect(paged.items.map((e) => e.id)).toEqual([first]);
  });

  it("answers NOT_FOUND for another member's test case", async () => {
    const owner = await createExecutionScenario(h);
    const other = await createTestUser(h);
    await expect(
      executionHistory(h.db, other.actor, { testCaseId: owner.testCase.id }),
    ).rejects.toStrictEqual(new NotFoundError("Test case", owner.testCase.id));
  });

  it("shows an admin every execution of a member's test case", async () => {
    const owner = await createExecutionScenario(h);
    const admin = await createTestUser(h, "admin");
    const page = await executionHistory(h.db, admin.actor, { testCaseId: owner.testCase.id });
    expect(page.items.map((e) => e.id)).toEqual([owner.executionId]);
  });
});

describe("updateExecution", () => {
  it("moves a pending execution to running and stamps startedAt", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const before = Date.now();
    const updated = await updateExecution(h.db, actor, { id: executionId, status: "running" });
    expect(updated.status).toBe("running");
    expect(updated.startedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(updated.completedAt).toBeNull();
    expect(updated).not.toHaveProperty("idempotencyKey");
  });

  it("sets result, error message and artifacts while running", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const updated = await updateExecution(h.db, actor, {
      id: executionId,
      status: "running",
      result: "error",
      errorMessage: "boom",
      consoleLog: "log line",
      screenshotPath: "/shots/1.png",
      videoPath: "/videos/1.webm",
    });
    expect(updated).toMatchObject({
      status: "running",
      result: "error",
      errorMessage: "boom",
      consoleLog: "log line",
      screenshotPath: "/shots/1.png",
      videoPath: "/videos/1.webm",
    });
  });

  it("fills completedAt and durationSeconds from explicit timings when finishing", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await updateExecution(h.db, actor, {
      id: executionId,
      status: "running",
      startedAt: "2026-01-01T10:00:00Z",
    });
    const finished = await updateExecution(h.db, actor, {
      id: executionId,
      status: "completed",
      result: "pass",
      completedAt: "2026-01-01T10:01:30.500Z",
    });
    expect(finished).toMatchObject({
      status: "completed",
      result: "pass",
      startedAt: new Date("2026-01-01T10:00:00Z"),
      completedAt: new Date("2026-01-01T10:01:30.500Z"),
      durationSeconds: 90.5,
    });
  });

  it("fills completedAt with the current time and derives durationSeconds", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const startedAt = new Date(Date.now() - 5000);
    await updateExecution(h.db, actor, {
      id: executionId,
      status: "running",
      startedAt: startedAt.toISOString(),
    });
    const before = Date.now();
    const finished = await updateExecution(h.db, actor, { id: executionId, status: "failed" });
    const after = Date.now();
    const completedAt = finished.completedAt?.getTime() ?? 0;
    expect(completedAt).toBeGreaterThanOrEqual(before);
    expect(completedAt).toBeLessThanOrEqual(after);
    expect(finished.durationSeconds).toBe((completedAt - startedAt.getTime()) / 1000);
  });

  it("keeps a duration the runner reports itself", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const finished = await updateExecution(h.db, actor, {
      id: executionId,
      status: "cancelled",
      durationSeconds: 12.25,
    });
    expect(finished).toMatchObject({ status: "cancelled", durationSeconds: 12.25 });
    expect(finished.completedAt).toBeInstanceOf(Date);
  });

  it("refuses completedAt or durationSeconds before the execution finishes", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await expect(
      updateExecution(h.db, actor, { id: executionId, completedAt: "2026-01-01T10:00:00Z" }),
    ).rejects.toThrow(ConflictError);
    await expect(
      updateExecution(h.db, actor, { id: executionId, status: "running", durationSeconds: 3 }),
    ).rejects.toThrow(ConflictError);
    expect(await executionRow(executionId)).toMatchObject({ status: "pending", completedAt: null });
  });

  it("refuses a completedAt before startedAt", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await updateExecution(h.db, actor, {
      id: executionId,
      status: "running",
      startedAt: "2026-01-01T10:00:00Z",
    });
    await expect(
      updateExecution(h.db, actor, {
        id: executionId,
        status: "completed",
        completedAt: "2026-01-01T09:59:59Z",
      }),
    ).rejects.toThrow(ConflictError);
    expect(await executionRow(executionId)).toMatchObject({ status: "running" });
  });

  it("rejects a negative duration and an unknown field through zod", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await expect(
      updateExecution(h.db, actor, { id: executionId, status: "completed", durationSeconds: -1 }),
    ).rejects.toThrow(ZodError);
    await expect(
      updateExecution(h.db, actor, { id: executionId, userId: 1 } as never),
    ).rejects.toThrow(ZodError);
  });
});

describe("the execution lifecycle", () => {
  const ALLOWED: Record<ExecutionStatus, ExecutionStatus[]> = {
    pending: ["pending", "running", "cancelled"],
    running: ["running", "completed", "failed", "cancelled"],
    completed: ["completed"],
    failed: ["failed"],
    cancelled: ["cancelled"],
  };

  it("declares exactly the documented next statuses", () => {
    expect(NEXT_STATUSES).toEqual({
      pending: ["running", "cancelled"],
      running: ["completed", "failed", "cancelled"],
      completed: [],
      failed: [],
      cancelled: [],
    });
  });

  let owner: Actor;
  let testCaseId: number;
  beforeAll(async () => {
    owner = (await createTestUser(h)).actor;
    testCaseId = (await createTestCaseFor(h, owner)).id;
  });

  for (const from of EXECUTION_STATUSES) {
    for (const to of EXECUTION_STATUSES) {
      const allowed = ALLOWED[from].includes(to);
      it(`${allowed ? "allows" : "refuses with CONFLICT"} ${from} → ${to}`, async () => {
        const terminal = from === "completed" || from === "failed" || from === "cancelled";
        const row = await insertExecution(h, {
          userId: owner.id,
          testCaseId,
          status: from,
          startedAt: from === "pending" ? null : new Date(Date.now() - 10_000),
          completedAt: terminal ? new Date(Date.now() - 5_000) : null,
        });
        const attempt = updateExecution(h.db, owner, { id: row.id, status: to });
        if (allowed) {
          expect((await attempt).status).toBe(to);
        } else {
          await expect(attempt).rejects.toThrow(ConflictError);
          expect((await executionRow(row.id))?.status).toBe(from);
        }
      });
    }
  }
});

describe("a finished execution", () => {
  async function finishedExecution() {
    const scenario = await createExecutionScenario(h);
    await updateExecution(h.db, scenario.actor, {
      id: scenario.executionId,
      status: "running",
      startedAt: "2026-02-01T08:00:00Z",
    });
    const finished = await updateExecution(h.db, scenario.actor, {
      id: scenario.executionId,
      status: "completed",
      result: "pass",
      completedAt: "2026-02-01T08:00:45Z",
    });
    return { ...scenario, finished };
  }

  it("refuses to change status, result or timings with CONFLICT", async () => {
    const { actor, executionId, finished } = await finishedExecution();
    const changes = [
      { status: "failed" },
      { result: "fail" },
      { startedAt: "2026-02-01T07:00:00Z" },
      { completedAt: "2026-02-01T09:00:00Z" },
      { durationSeconds: 1 },
    ] as const;
    for (const change of changes) {
      await expect(updateExecution(h.db, actor, { id: executionId, ...change })).rejects.toThrow(
        ConflictError,
      );
    }
    expect(await executionRow(executionId)).toMatchObject({
      status: "completed",
      result: "pass",
      startedAt: finished.startedAt,
      completedAt: finished.completedAt,
      durationSeconds: 45,
    });
  });

  it("still accepts a console log, screenshot and video", async () => {
    const { actor, executionId } = await finishedExecution();
    const updated = await updateExecution(h.db, actor, {
      id: executionId,
      consoleLog: "late log",
      screenshotPath: "/shots/final.png",
      videoPath: "/videos/run.webm",
    });
    expect(updated).toMatchObject({
      status: "completed",
      result: "pass",
      durationSeconds: 45,
      consoleLog: "late log",
      screenshotPath: "/shots/final.png",
      videoPath: "/videos/run.webm",
    });
  });

  it("treats a repeat of the same finishing update as a no-op", async () => {
    const { actor, executionId, finished } = await finishedExecution();
    const repeated = await updateExecution(h.db, actor, {
      id: executionId,
      status: "completed",
      result: "pass",
      completedAt: "2026-02-01T08:00:45Z",
    });
    const bare = await updateExecution(h.db, actor, {
      id: executionId,
      status: "completed",
      result: "pass",
    });
    for (const again of [repeated, bare]) {
      expect(again).toMatchObject({
        status: finished.status,
        result: finished.result,
        startedAt: finished.startedAt,
        completedAt: finished.completedAt,
        durationSeconds: finished.durationSeconds,
      });
    }
  });
});

describe("deleteExecution", () => {
  it("deletes the execution and, by cascade, its steps", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, {
      executionId,
      steps: [
        { stepNumber: 1, stepDescription: "a", result: "pass" },
        { stepNumber: 2, stepDescription: "b", result: "fail" },
      ],
    });
    expect(await deleteExecution(h.db, actor, { id: executionId })).toEqual({ id: executionId });
    expect(await executionRow(executionId)).toBeUndefined();
    expect(
      await h.db
        .select()
        .from(testExecutionSteps)
        .where(eq(testExecutionSteps.executionId, executionId)),
    ).toEqual([]);
    await expect(getExecution(h.db, actor, { id: executionId })).rejects.toStrictEqual(
      new NotFoundError("Execution", executionId),
    );
  });

  it("answers NOT_FOUND when deleting twice", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await deleteExecution(h.db, actor, { id: executionId });
    await expect(deleteExecution(h.db, actor, { id: executionId })).rejects.toStrictEqual(
      new NotFoundError("Execution", executionId),
    );
  });
});

describe("failStuckExecutions", () => {
  it("fails running executions idle since before the cutoff, and only those", async () => {
    const user = await createTestUser(h);
    const testCase = await createTestCaseFor(h, user.actor);
    const now = new Date();
    const cutoff = new Date(now.getTime() - 30 * 60 * 1000);
    const longAgo = new Date(now.getTime() - 2 * 60 * 60 * 1000);
    const row = (status: ExecutionStatus, updatedAt: Date, result: "fail" | null = null) =>
      insertExecution(h, {
        userId: user.id,
        testCaseId: testCase.id,
        status,
        result,
        startedAt: status === "pending" ? null : longAgo,
        createdAt: longAgo,
        updatedAt,
      });
    const stuck = await row("running", longAgo);
    const stuckFailing = await row("running", longAgo, "fail");
    const active = await row("running", now);
    const waiting = await row("pending", longAgo);

    const failed = await failStuckExecutions(h.db, cutoff, now);

    expect(failed.sort((a, b) => a - b)).toEqual([stuck.id, stuckFailing.id]);
    expect(await executionRow(stuck.id)).toMatchObject({
      status: "failed",
      result: "error",
      completedAt: now,
      durationSeconds: 2 * 60 * 60,
      errorMessage: expect.stringContaining("no activity"),
    });
    expect(await executionRow(stuckFailing.id)).toMatchObject({ status: "failed", result: "fail" });
    expect(await executionRow(active.id)).toMatchObject({ status: "running", completedAt: null });
    expect(await executionRow(waiting.id)).toMatchObject({ status: "pending" });
  });
});
