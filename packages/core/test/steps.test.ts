import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { ConflictError, NotFoundError } from "../src/errors";
import { updateExecution } from "../src/executions";
import { LIMITS } from "../src/limits";
import { type ExecutionResult, testExecutionSteps, testExecutions } from "../src/schema";
import { listSteps, recordSteps, updateExecutionSummary, updateStep } from "../src/steps";
import {
  createExecutionScenario,
  createTestUser,
  openTestDatabase,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

function step(
  stepNumber: number,
  result: ExecutionResult = "pass",
  stepDescription = `step ${stepNumber}`,
) {
  return { stepNumber, stepDescription, result };
}

async function executionRow(executionId: number) {
  const [row] = await h.db.select().from(testExecutions).where(eq(testExecutions.id, executionId));
  return row;
}

function storedSteps(executionId: number) {
  return h.db
    .select()
    .from(testExecutionSteps)
    .where(eq(testExecutionSteps.executionId, executionId))
    .orderBy(testExecutionSteps.stepNumber);
}

describe("recordSteps", () => {
  it("accepts a single step object", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const recorded = await recordSteps(h.db, actor, {
      executionId,
      steps: {
        stepNumber: 1,
        stepDescription: "Open the cart",
        result: "pass",
        expectedResult: "One item",
        actualResult: "One item",
        startedAt: "2026-01-01T10:00:00Z",
        completedAt: "2026-01-01T10:00:02Z",
        durationSeconds: 2,
        screenshotPath: "/s/1.png",
        screenshotBefore: "/s/1-before.png",
        screenshotAfter: "/s/1-after.png",
        retryCount: 1,
        isCritical: true,
      },
    });
    expect(recorded.steps).toHaveLength(1);
    expect(recorded.steps[0]).toMatchObject({
      executionId,
      stepNumber: 1,
      stepDescription: "Open the cart",
      result: "pass",
      expectedResult: "One item",
      actualResult: "One item",
      startedAt: new Date("2026-01-01T10:00:00Z"),
      completedAt: new Date("2026-01-01T10:00:02Z"),
      durationSeconds: 2,
      screenshotPath: "/s/1.png",
      screenshotBefore: "/s/1-before.png",
      screenshotAfter: "/s/1-after.png",
      retryCount: 1,
      isCritical: true,
    });
    expect(recorded.summary).toEqual({
      id: executionId,
      status: "running",
      result: "pass",
      totalSteps: 1,
      passedSteps: 1,
      failedSteps: 0,
      skippedSteps: 0,
    });
  });

  it("accepts an array of steps and returns them in step order with defaults", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const recorded = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(2, "skip"), step(1, "pass"), step(3, "error")],
    });
    expect(recorded.steps.map((s) => [s.stepNumber, s.result])).toEqual([
      [1, "pass"],
      [2, "skip"],
      [3, "error"],
    ]);
    expect(recorded.steps[0]).toMatchObject({
      retryCount: 0,
      isCritical: false,
      errorMessage: null,
    });
    expect(recorded.summary).toMatchObject({
      result: "error",
      totalSteps: 3,
      passedSteps: 1,
      failedSteps: 1,
      skippedSteps: 1,
    });
  });

  it("answers only the summary with returnSteps: false, storing the steps all the same", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const recorded = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(1), step(2, "fail")],
      returnSteps: false,
    });
    expect(recorded.steps).toEqual([]);
    expect(recorded.summary).toEqual({
      id: executionId,
      status: "running",
      result: "fail",
      totalSteps: 2,
      passedSteps: 1,
      failedSteps: 1,
      skippedSteps: 0,
    });
    expect((await storedSteps(executionId)).map((s) => [s.stepNumber, s.result])).toEqual([
      [1, "pass"],
      [2, "fail"],
    ]);
  });

  it("moves a pending execution to running and stamps startedAt", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    expect((await executionRow(executionId))?.status).toBe("pending");
    const before = Date.now();
    const recorded = await recordSteps(h.db, actor, { executionId, steps: step(1) });
    expect(recorded.summary.status).toBe("running");
    const row = await executionRow(executionId);
    expect(row?.status).toBe("running");
    expect(row?.startedAt?.getTime()).toBeGreaterThanOrEqual(before - 1000);
  });

  it("keeps a startedAt set before the first step", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await updateExecution(h.db, actor, {
      id: executionId,
      status: "running",
      startedAt: "2026-01-01T09:00:00Z",
    });
    await recordSteps(h.db, actor, { executionId, steps: step(1) });
    expect((await executionRow(executionId))?.startedAt).toEqual(new Date("2026-01-01T09:00:00Z"));
  });

  it("changes nothing when an existing step number is sent again", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, { executionId, steps: [step(1, "pass", "original"), step(2)] });
    const before = await storedSteps(executionId);
    const again = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(1, "fail", "changed"), step(3, "skip")],
    });
    expect(again.steps.map((s) => [s.stepNumber, s.result, s.stepDescription])).toEqual([
      [1, "pass", "original"],
      [3, "skip", "step 3"],
    ]);
    const after = await storedSteps(executionId);
    expect(after).toHaveLength(3);
    expect(after.slice(0, 2)).toEqual(before);
    expect(again.summary).toMatchObject({
      result: "pass",
      totalSteps: 3,
      passedSteps: 2,
      failedSteps: 0,
      skippedSteps: 1,
    });
  });

  it("leaves a result set by the runner alone when only known steps are re-sent", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, { executionId, steps: [step(1), step(2)] });
    await updateExecution(h.db, actor, { id: executionId, result: "error", errorMessage: "crash" });
    const retry = await recordSteps(h.db, actor, { executionId, steps: [step(1), step(2)] });
    expect(retry.summary).toMatchObject({ result: "error", totalSteps: 2, passedSteps: 2 });
    expect((await executionRow(executionId))?.result).toBe("error");
  });

  it("holds at most LIMITS.stepsPerExecution steps, numbered up to that limit", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const limit = LIMITS.stepsPerExecution;
    await h.db.execute(
      sql`insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result)
          select e.id, e.created_at, n, 'bulk', 'pass' from test_executions e, generate_series(1, ${limit - 1}) as n
          where e.id = ${executionId}`,
    );
    // Steps written behind step.record's back need the summary recounted once.
    await updateExecutionSummary(h.db, executionId);
    await expect(recordSteps(h.db, actor, { executionId, steps: step(limit + 1) })).rejects.toThrow(
      ZodError,
    );
    const filled = await recordSteps(h.db, actor, { executionId, steps: step(limit, "skip") });
    expect(filled.summary).toMatchObject({ totalSteps: limit, passedSteps: limit - 1 });
  });

  it("rejects duplicate step numbers within one call", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await expect(
      recordSteps(h.db, actor, { executionId, steps: [step(1), step(2), step(1, "fail")] }),
    ).rejects.toThrow(ZodError);
    expect(await storedSteps(executionId)).toEqual([]);
  });

  it("rejects an empty array, a step number of 0 and an empty description", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    for (const steps of [[], step(0), { ...step(1), stepDescription: "  " }]) {
      await expect(recordSteps(h.db, actor, { executionId, steps })).rejects.toThrow(ZodError);
    }
    expect((await executionRow(executionId))?.status).toBe("pending");
  });

  it("refuses new steps on a finished execution but accepts an exact retry of stored ones", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const first = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(1, "pass"), step(2, "fail")],
    });
    await updateExecution(h.db, actor, { id: executionId, status: "failed" });

    const error = await recordSteps(h.db, actor, { executionId, steps: [step(2, "fail"), step(3)] })
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain("failed");

    const retry = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(1, "pass"), step(2, "fail")],
    });
    expect(retry.steps).toEqual(first.steps);
    expect(retry.summary).toEqual({ ...first.summary, status: "failed" });
    expect(await storedSteps(executionId)).toHaveLength(2);
  });

  it("keeps a finished execution's result when its steps are retried", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, { executionId, steps: [step(1), step(2)] });
    await updateExecution(h.db, actor, { id: executionId, status: "failed", result: "error" });
    const retry = await recordSteps(h.db, actor, { executionId, steps: [step(1), step(2)] });
    expect(retry.summary).toMatchObject({ status: "failed", result: "error" });
    expect(await executionRow(executionId)).toMatchObject({ status: "failed", result: "error" });
  });
});

describe("concurrent recordSteps", () => {
  const resultFor = (n: number): ExecutionResult =>
    (["skip", "pass", "pass", "fail", "error"] as const)[n % 5] ?? "pass";

  it("counts 50 parallel uploads of distinct steps exactly", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        recordSteps(h.db, actor, { executionId, steps: step(i + 1, resultFor(i + 1)) }),
      ),
    );
    expect(await executionRow(executionId)).toMatchObject({
      status: "running",
      result: "fail",
      totalSteps: 50,
      passedSteps: 20,
      failedSteps: 20,
      skippedSteps: 10,
    });
    expect(await storedSteps(executionId)).toHaveLength(50);
  });

  it("stores no duplicates when half of 50 parallel uploads repeat a step number", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const n = (i % 25) + 1;
        return recordSteps(h.db, actor, { executionId, steps: step(n, resultFor(n)) });
      }),
    );
    const rows = await storedSteps(executionId);
    expect(rows.map((r) => r.stepNumber)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    const [duplicates] = await h.db
      .select({ n: sql<number>`count(*)::int` })
      .from(testExecutionSteps)
      .where(eq(testExecutionSteps.executionId, executionId))
      .groupBy(testExecutionSteps.stepNumber)
      .having(sql`count(*) > 1`);
    expect(duplicates).toBeUndefined();
    // Steps 1..25: pass for n%5 in {1,2} (10), fail for 3 (5), error for 4 (5), skip for 0 (5).
    expect(await executionRow(executionId)).toMatchObject({
      result: "fail",
      totalSteps: 25,
      passedSteps: 10,
      failedSteps: 10,
      skippedSteps: 5,
    });
  });
});

describe("listSteps", () => {
  it("lists the steps in step order", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, { executionId, steps: [step(10), step(2), step(7)] });
    const listed = await listSteps(h.db, actor, { executionId });
    expect(listed.map((s) => s.stepNumber)).toEqual([2, 7, 10]);
  });

  it("answers an empty list for an execution without steps", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    expect(await listSteps(h.db, actor, { executionId })).toEqual([]);
  });
});

describe("updateStep", () => {
  it("corrects a step and recomputes the execution's summary", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const { steps } = await recordSteps(h.db, actor, {
      executionId,
      steps: [step(1, "pass"), step(2, "fail")],
    });
    const failing = steps[1];
    if (!failing) throw new Error("step 2 was not stored");
    const updated = await updateStep(h.db, actor, {
      id: failing.id,
      result: "pass",
      actualResult: "worked on re-check",
    });
    expect(updated.steps[0]).toMatchObject({
      id: failing.id,
      stepNumber: 2,
      result: "pass",
      actualResult: "worked on re-check",
    });
    expect(updated.summary).toMatchObject({
      result: "pass",
      totalSteps: 2,
      passedSteps: 2,
      failedSteps: 0,
      skippedSteps: 0,
    });
    expect(await executionRow(executionId)).toMatchObject({ result: "pass", passedSteps: 2 });
  });

  it("rejects an update naming no field through zod", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const { steps } = await recordSteps(h.db, actor, { executionId, steps: step(1, "fail") });
    await expect(updateStep(h.db, actor, { id: steps[0]?.id ?? 0 })).rejects.toThrow(ZodError);
    expect((await storedSteps(executionId))[0]?.result).toBe("fail");
  });

  it("refuses to change a step of a finished execution", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const { steps } = await recordSteps(h.db, actor, { executionId, steps: step(1, "fail") });
    await updateExecution(h.db, actor, { id: executionId, status: "completed" });
    const stepId = steps[0]?.id ?? 0;
    await expect(updateStep(h.db, actor, { id: stepId, result: "pass" })).rejects.toThrow(
      ConflictError,
    );
    expect((await storedSteps(executionId))[0]?.result).toBe("fail");
  });

  it("answers NOT_FOUND for a missing step", async () => {
    const member = await createTestUser(h);
    await expect(
      updateStep(h.db, member.actor, { id: 2_000_000_000, result: "pass" }),
    ).rejects.toStrictEqual(new NotFoundError("Step", 2_000_000_000));
  });
});

describe("access to steps", () => {
  it("hides another member's steps as NOT_FOUND, exactly like missing ones", async () => {
    const owner = await createExecutionScenario(h);
    const other = await createTestUser(h);
    const { steps } = await recordSteps(h.db, owner.actor, {
      executionId: owner.executionId,
      steps: step(1, "fail"),
    });
    const stepId = steps[0]?.id ?? 0;
    const executionId = owner.executionId;

    await expect(listSteps(h.db, other.actor, { executionId })).rejects.toStrictEqual(
      new NotFoundError("Execution", executionId),
    );
    await expect(
      recordSteps(h.db, other.actor, { executionId, steps: step(2) }),
    ).rejects.toStrictEqual(new NotFoundError("Execution", executionId));
    await expect(
      updateStep(h.db, other.actor, { id: stepId, result: "pass" }),
    ).rejects.toStrictEqual(new NotFoundError("Step", stepId));
    await expect(
      listSteps(h.db, other.actor, { executionId: 2_000_000_000 }),
    ).rejects.toStrictEqual(new NotFoundError("Execution", 2_000_000_000));

    const stored = await storedSteps(executionId);
    expect(stored.map((s) => [s.stepNumber, s.result])).toEqual([[1, "fail"]]);
  });

  it("lets an admin list, record and update any member's steps", async () => {
    const owner = await createExecutionScenario(h);
    const admin = await createTestUser(h, "admin");
    const executionId = owner.executionId;
    const recorded = await recordSteps(h.db, admin.actor, {
      executionId,
      steps: [step(1, "fail"), step(2)],
    });
    expect(recorded.summary).toMatchObject({ totalSteps: 2, result: "fail" });
    const stepId = recorded.steps[0]?.id ?? 0;
    const updated = await updateStep(h.db, admin.actor, { id: stepId, result: "pass" });
    expect(updated.summary).toMatchObject({ result: "pass", passedSteps: 2 });
    const listed = await listSteps(h.db, admin.actor, { executionId });
    expect(listed.map((s) => s.result)).toEqual(["pass", "pass"]);
  });
});

describe("updateExecutionSummary", () => {
  async function summaryOf(
    results: ExecutionResult[],
    initialResult: ExecutionResult | null = null,
  ) {
    const { executionId } = await createExecutionScenario(h);
    await h.db
      .update(testExecutions)
      .set({ result: initialResult })
      .where(eq(testExecutions.id, executionId));
    if (results.length > 0) {
      await h.db.insert(testExecutionSteps).values(
        results.map((result, i) => ({
          executionId,
          executionCreatedAt: sql`(select created_at from test_executions where id = ${executionId})`,
          ...step(i + 1, result),
        })),
      );
    }
    const summary = await updateExecutionSummary(h.db, executionId);
    expect(await executionRow(executionId)).toMatchObject(summary);
    return summary;
  }

  it("makes a failed step beat an errored and a skipped one", async () => {
    expect(await summaryOf(["pass", "error", "fail", "skip"])).toMatchObject({
      result: "fail",
      totalSteps: 4,
      passedSteps: 1,
      failedSteps: 2,
      skippedSteps: 1,
    });
  });

  it("makes an errored step beat skipped and passed ones", async () => {
    expect(await summaryOf(["pass", "skip", "error"])).toMatchObject({
      result: "error",
      totalSteps: 3,
      passedSteps: 1,
      failedSteps: 1,
      skippedSteps: 1,
    });
  });

  it("counts failed and errored steps together as failedSteps", async () => {
    expect(await summaryOf(["fail", "error", "error", "fail", "pass"])).toMatchObject({
      result: "fail",
      failedSteps: 4,
      passedSteps: 1,
    });
  });

  it("answers skip when every step was skipped", async () => {
    expect(await summaryOf(["skip", "skip"])).toMatchObject({
      result: "skip",
      totalSteps: 2,
      skippedSteps: 2,
      passedSteps: 0,
      failedSteps: 0,
    });
  });

  it("answers pass when passes and skips mix", async () => {
    expect(await summaryOf(["skip", "pass", "skip"])).toMatchObject({
      result: "pass",
      passedSteps: 1,
      skippedSteps: 2,
    });
  });

  it("keeps the execution's result and zero counts when it has no steps", async () => {
    expect(await summaryOf([], "error")).toMatchObject({
      result: "error",
      totalSteps: 0,
      passedSteps: 0,
      failedSteps: 0,
      skippedSteps: 0,
    });
  });

  it("answers NOT_FOUND for a missing execution", async () => {
    await expect(updateExecutionSummary(h.db, 2_000_000_000)).rejects.toStrictEqual(
      new NotFoundError("Execution", 2_000_000_000),
    );
  });
});
