import { eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import {
  EXECUTION_RESULTS,
  type ExecutionResult,
  testExecutionSteps,
  testExecutions,
} from "../src/schema";
import { recordSteps, updateStep } from "../src/steps";
import {
  createExecutionScenario,
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  queryRows,
  startExecutionFor,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const result = fc.constantFrom<ExecutionResult>(...EXECUTION_RESULTS);
/** Step numbers from a small range, so batches overlap: those are retried uploads. */
const batch = fc.uniqueArray(fc.record({ stepNumber: fc.integer({ min: 1, max: 12 }), result }), {
  minLength: 1,
  maxLength: 6,
  selector: (step) => step.stepNumber,
});
const operation = fc.oneof(
  { weight: 4, arbitrary: batch.map((steps) => ({ kind: "record" as const, steps })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ stepNumber: fc.integer({ min: 1, max: 12 }), result })
      .map((change) => ({ kind: "update" as const, ...change })),
  },
  {
    weight: 2,
    arbitrary: fc
      .array(batch, { minLength: 2, maxLength: 4 })
      .map((batches) => ({ kind: "concurrent" as const, batches })),
  },
);
type Operation = typeof operation extends fc.Arbitrary<infer T> ? T : never;

function record(
  actor: Actor,
  executionId: number,
  steps: { stepNumber: number; result: ExecutionResult }[],
) {
  return recordSteps(h.db, actor, {
    executionId,
    returnSteps: false,
    steps: steps.map((step) => ({ ...step, stepDescription: `step ${step.stepNumber}` })),
  });
}

async function apply(actor: Actor, executionId: number, op: Operation) {
  if (op.kind === "record") return void (await record(actor, executionId, op.steps));
  if (op.kind === "concurrent") {
    await Promise.all(op.batches.map((steps) => record(actor, executionId, steps)));
    return;
  }
  const [stored] = await h.db
    .select({ id: testExecutionSteps.id })
    .from(testExecutionSteps)
    .where(
      sql`${testExecutionSteps.executionId} = ${executionId} and ${testExecutionSteps.stepNumber} = ${op.stepNumber}`,
    );
  if (stored) await updateStep(h.db, actor, { id: stored.id, result: op.result });
}

/** The summary as a full recount of the steps gives it (the rule in the README). */
async function recount(executionId: number) {
  const [row] = await queryRows<{
    total: number;
    passed: number;
    failed: number;
    errored: number;
    skipped: number;
  }>(
    h,
    sql`select count(*)::int as total,
      count(*) filter (where result = 'pass')::int as passed,
      count(*) filter (where result = 'fail')::int as failed,
      count(*) filter (where result = 'error')::int as errored,
      count(*) filter (where result = 'skip')::int as skipped
      from test_execution_steps where execution_id = ${executionId}`,
  );
  if (!row) throw new Error("no recount");
  const result: ExecutionResult | null =
    row.total === 0
      ? null
      : row.failed > 0
        ? "fail"
        : row.errored > 0
          ? "error"
          : row.skipped === row.total
            ? "skip"
            : "pass";
  return {
    totalSteps: row.total,
    passedSteps: row.passed,
    failedSteps: row.failed + row.errored,
    skippedSteps: row.skipped,
    result,
  };
}

async function storedSummary(executionId: number) {
  const [row] = await h.db
    .select({
      totalSteps: testExecutions.totalSteps,
      passedSteps: testExecutions.passedSteps,
      failedSteps: testExecutions.failedSteps,
      skippedSteps: testExecutions.skippedSteps,
      result: testExecutions.result,
    })
    .from(testExecutions)
    .where(eq(testExecutions.id, executionId));
  return row;
}

it("keeps the incremental summary equal to a full recount under random record, retry, update and concurrent writers", async () => {
  const user = await createTestUser(h);
  const testCase = await createTestCaseFor(h, user.actor);
  let runs = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 12 }), async (operations) => {
      runs++;
      const executionId = await startExecutionFor(h, user.actor, testCase.id);
      for (const op of operations) {
        await apply(user.actor, executionId, op);
        expect(await storedSummary(executionId)).toEqual(await recount(executionId));
      }
    }),
    { numRuns: 150, seed: 20261204 },
  );
  expect(runs).toBe(150);
});

it("counts every step of writers racing on one execution exactly once", async () => {
  const { actor, executionId } = await createExecutionScenario(h);
  const writers = Array.from({ length: 8 }, (_, w) =>
    record(
      actor,
      executionId,
      Array.from({ length: 50 }, (_, i) => ({
        stepNumber: ((w * 37 + i) % 120) + 1,
        result: (["pass", "fail", "skip", "error"] as const)[(w + i) % 4] ?? "pass",
      })),
    ),
  );
  await Promise.all(writers);
  const summary = await storedSummary(executionId);
  expect(summary).toEqual(await recount(executionId));
  expect(summary?.totalSteps).toBe(120);
});
