import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, ownedBy } from "./actor";
import type { Database } from "./db";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors";
import { type ExecutionSummary, lockExecution } from "./executions";
import { isTerminal } from "./lifecycle";
import { id, isoDateTime, LIMITS } from "./limits";
import { notifyStepsRecorded } from "./live";
import {
  EXECUTION_RESULTS,
  type TestExecutionStep,
  testExecutionSteps,
  testExecutions,
} from "./schema";

const text = z.string().max(LIMITS.text);
const path = z.string().trim().min(1).max(LIMITS.path);

const stepFields = {
  stepDescription: z.string().trim().min(1, "must not be empty").max(LIMITS.text),
  result: z.enum(EXECUTION_RESULTS),
  expectedResult: text.optional(),
  actualResult: text.optional(),
  errorMessage: z.string().max(LIMITS.message).optional(),
  startedAt: isoDateTime.optional(),
  completedAt: isoDateTime.optional(),
  durationSeconds: z.number().min(0).max(31_536_000).optional(),
  screenshotPath: path.optional(),
  screenshotBefore: path.optional(),
  screenshotAfter: path.optional(),
  retryCount: z.number().int().min(0).max(1000).optional(),
  isCritical: z.boolean().optional(),
};

export const stepInput = z.strictObject({
  stepNumber: z.number().int().min(1).max(LIMITS.stepsPerExecution),
  ...stepFields,
});

export const recordStepsInput = z.strictObject({
  executionId: id,
  steps: z
    .union([
      z
        .array(stepInput)
        .min(1, "send at least one step")
        .max(LIMITS.stepsPerCall, `send at most ${LIMITS.stepsPerCall} steps per call`),
      stepInput,
    ])
    .transform((steps) => (Array.isArray(steps) ? steps : [steps]))
    .refine(
      (steps) => new Set(steps.map((s) => s.stepNumber)).size === steps.length,
      "each stepNumber may appear only once per call",
    ),
});

export const listStepsInput = z.strictObject({ executionId: id });

export const updateStepInput = z
  .strictObject(stepFields)
  .partial()
  .extend({ id })
  .refine((input) => Object.keys(input).length > 1, "send at least one field to change");

export interface RecordStepsResult {
  steps: TestExecutionStep[];
  summary: ExecutionSummary;
}

const summaryColumns = {
  id: testExecutions.id,
  status: testExecutions.status,
  result: testExecutions.result,
  totalSteps: testExecutions.totalSteps,
  passedSteps: testExecutions.passedSteps,
  failedSteps: testExecutions.failedSteps,
  skippedSteps: testExecutions.skippedSteps,
};

/**
 * Recomputes an execution's step counts and result from its steps, in one statement. Call it in
 * the transaction that changed the steps, after locking the execution.
 * Result: any failed step → fail; else any errored step → error; all skipped → skip; else pass.
 */
export async function updateExecutionSummary(
  tx: Database,
  executionId: number,
): Promise<ExecutionSummary> {
  const s = testExecutionSteps;
  const counts = tx
    .select({
      total: sql<number>`count(*)::int`.as("total"),
      passed: sql<number>`count(*) filter (where ${s.result} = 'pass')::int`.as("passed"),
      failed: sql<number>`count(*) filter (where ${s.result} = 'fail')::int`.as("failed"),
      errored: sql<number>`count(*) filter (where ${s.result} = 'error')::int`.as("errored"),
      skipped: sql<number>`count(*) filter (where ${s.result} = 'skip')::int`.as("skipped"),
    })
    .from(s)
    .where(eq(s.executionId, executionId))
    .as("counts");
  const [row] = await tx
    .update(testExecutions)
    .set({
      totalSteps: sql`${counts.total}`,
      passedSteps: sql`${counts.passed}`,
      failedSteps: sql`${counts.failed} + ${counts.errored}`,
      skippedSteps: sql`${counts.skipped}`,
      result: sql`case
        when ${counts.total} = 0 then ${testExecutions.result}
        when ${counts.failed} > 0 then 'fail'::execution_result
        when ${counts.errored} > 0 then 'error'::execution_result
        when ${counts.skipped} = ${counts.total} then 'skip'::execution_result
        else 'pass'::execution_result end`,
      updatedAt: new Date(),
    })
    .from(counts)
    .where(eq(testExecutions.id, executionId))
    .returning(summaryColumns);
  if (!row) throw new NotFoundError("Execution", executionId);
  return row;
}

async function currentSummary(tx: Database, executionId: number): Promise<ExecutionSummary> {
  const [row] = await tx
    .select(summaryColumns)
    .from(testExecutions)
    .where(eq(testExecutions.id, executionId));
  if (!row) throw new NotFoundError("Execution", executionId);
  return row;
}

type StepInput = z.output<typeof stepInput>;

/**
 * Inserts steps, skipping step numbers already stored. The rows travel as one JSON parameter
 * (json_to_recordset) rather than 17 bind parameters a row: for a 500-step batch that is one
 * value to encode instead of 8,500, and the statement text stays the same whatever the count.
 */
async function insertSteps(tx: Database, executionId: number, steps: StepInput[]) {
  const rows = steps.map((step) => ({
    step_number: step.stepNumber,
    step_description: step.stepDescription,
    expected_result: step.expectedResult ?? null,
    result: step.result,
    actual_result: step.actualResult ?? null,
    error_message: step.errorMessage ?? null,
    started_at: step.startedAt?.toISOString() ?? null,
    completed_at: step.completedAt?.toISOString() ?? null,
    duration_seconds: step.durationSeconds ?? null,
    screenshot_path: step.screenshotPath ?? null,
    screenshot_before: step.screenshotBefore ?? null,
    screenshot_after: step.screenshotAfter ?? null,
    retry_count: step.retryCount ?? 0,
    is_critical: step.isCritical ?? false,
  }));
  await tx.execute(sql`
    insert into test_execution_steps (execution_id, step_number, step_description, expected_result,
      result, actual_result, error_message, started_at, completed_at, duration_seconds,
      screenshot_path, screenshot_before, screenshot_after, retry_count, is_critical)
    select ${executionId}::int, r.* from json_to_recordset(${JSON.stringify(rows)}::json) as r(
      step_number int, step_description text, expected_result text, result execution_result,
      actual_result text, error_message text, started_at timestamptz, completed_at timestamptz,
      duration_seconds float8, screenshot_path varchar(500), screenshot_before varchar(500),
      screenshot_after varchar(500), retry_count int, is_critical boolean)
    on conflict (execution_id, step_number) do nothing`);
}

/**
 * Stores steps of an execution. A step number already stored is left as it is, so a retried
 * upload changes nothing. The first step moves a pending execution to running.
 */
export async function recordSteps(
  db: Database,
  actor: Actor,
  raw: z.input<typeof recordStepsInput>,
): Promise<RecordStepsResult> {
  const input = recordStepsInput.parse(raw);
  const numbers = input.steps.map((step) => step.stepNumber);
  return db.transaction(async (tx) => {
    const execution = await lockExecution(tx, actor, input.executionId);
    const [existing] = await tx
      .select({
        total: sql<number>`count(*)::int`,
        matching: sql<number>`count(*) filter (where ${inArray(testExecutionSteps.stepNumber, numbers)})::int`,
      })
      .from(testExecutionSteps)
      .where(eq(testExecutionSteps.executionId, execution.id));
    const alreadyStored = existing?.matching ?? 0;
    const newCount = numbers.length - alreadyStored;
    if (newCount > 0 && isTerminal(execution.status)) {
      throw new ConflictError(
        `execution ${execution.id} is already ${execution.status}; no new steps can be added`,
      );
    }
    if ((existing?.total ?? 0) + newCount > LIMITS.stepsPerExecution) {
      throw new InvalidInputError(
        `an execution can hold at most ${LIMITS.stepsPerExecution} steps`,
      );
    }
    if (newCount > 0) await insertSteps(tx, execution.id, input.steps);
    if (execution.status === "pending") {
      await tx
        .update(testExecutions)
        .set({ status: "running", startedAt: execution.startedAt ?? new Date() })
        .where(eq(testExecutions.id, execution.id));
    }
    // A retry that stores no new step changes nothing, not even a result the runner set.
    const summary =
      newCount > 0
        ? await updateExecutionSummary(tx, execution.id)
        : await currentSummary(tx, execution.id);
    await notifyStepsRecorded(tx, execution.id);
    const steps = await tx
      .select()
      .from(testExecutionSteps)
      .where(
        and(
          eq(testExecutionSteps.executionId, execution.id),
          inArray(testExecutionSteps.stepNumber, numbers),
        ),
      )
      .orderBy(asc(testExecutionSteps.stepNumber));
    return { steps, summary };
  });
}

export async function listSteps(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listStepsInput>,
): Promise<TestExecutionStep[]> {
  const input = listStepsInput.parse(raw);
  const [execution] = await db
    .select({ id: testExecutions.id })
    .from(testExecutions)
    .where(and(eq(testExecutions.id, input.executionId), ownedBy(actor, testExecutions.userId)));
  if (!execution) throw new NotFoundError("Execution", input.executionId);
  return db
    .select()
    .from(testExecutionSteps)
    .where(eq(testExecutionSteps.executionId, input.executionId))
    .orderBy(asc(testExecutionSteps.stepNumber));
}

/** Corrects one stored step (e.g. a re-evaluated result) and recomputes the summary. */
export async function updateStep(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateStepInput>,
): Promise<RecordStepsResult> {
  const { id: stepId, ...changes } = updateStepInput.parse(raw);
  return db.transaction(async (tx) => {
    const [owner] = await tx
      .select({ executionId: testExecutionSteps.executionId })
      .from(testExecutionSteps)
      .where(eq(testExecutionSteps.id, stepId));
    if (!owner) throw new NotFoundError("Step", stepId);
    const execution = await lockExecution(tx, actor, owner.executionId).catch((error) => {
      throw error instanceof NotFoundError ? new NotFoundError("Step", stepId) : error;
    });
    if (isTerminal(execution.status)) {
      throw new ConflictError(
        `execution ${execution.id} is already ${execution.status}; its steps cannot change`,
      );
    }
    const [step] = await tx
      .update(testExecutionSteps)
      .set(changes)
      .where(eq(testExecutionSteps.id, stepId))
      .returning();
    if (!step) throw new NotFoundError("Step", stepId);
    const summary = await updateExecutionSummary(tx, execution.id);
    await notifyStepsRecorded(tx, execution.id);
    return { steps: [step], summary };
  });
}
