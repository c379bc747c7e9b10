import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, ownedBy } from "./actor";
import { type Database, queryRows } from "./db";
import { ConflictError, InvalidInputError, NotFoundError } from "./errors";
import { type ExecutionSummary, lockExecution } from "./executions";
import { isTerminal } from "./lifecycle";
import { id, isoDateTime, LIMITS } from "./limits";
import { notifyStepsRecorded, STEPS_CHANNEL } from "./live";
import {
  EXECUTION_RESULTS,
  type TestExecution,
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
  /** false: answer only the summary (`steps` is empty), as the recorder does. */
  returnSteps: z.boolean().default(true),
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

type StepInput = z.output<typeof stepInput>;

function stepRows(steps: StepInput[]) {
  return steps.map((step) => ({
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
}

interface StoredSummaryRow {
  id: number;
  status: ExecutionSummary["status"];
  result: ExecutionSummary["result"];
  total_steps: number;
  passed_steps: number;
  failed_steps: number;
  skipped_steps: number;
}

/**
 * Stores the steps not stored yet and, in the same statement, recomputes the execution's summary,
 * moves a pending execution to running and notifies live subscribers: one round trip instead of
 * one a step. Call it after lockExecution, so no other writer adds steps in between. The
 * statement's scan of stored steps does not see its own inserts (one snapshot), so the counts add
 * the inserted rows to the stored ones. The rows travel as one JSON parameter (json_to_recordset)
 * rather than 14 bind parameters a row. Answers undefined when nothing changed.
 */
async function storeSteps(
  tx: Database,
  execution: TestExecution,
  steps: StepInput[],
): Promise<ExecutionSummary | undefined> {
  const [row] = await queryRows<StoredSummaryRow>(
    tx,
    sql`
    with inserted as (
      insert into test_execution_steps (execution_id, step_number, step_description, expected_result,
        result, actual_result, error_message, started_at, completed_at, duration_seconds,
        screenshot_path, screenshot_before, screenshot_after, retry_count, is_critical)
      select ${execution.id}::int, r.* from json_to_recordset(${JSON.stringify(stepRows(steps))}::json) as r(
        step_number int, step_description text, expected_result text, result execution_result,
        actual_result text, error_message text, started_at timestamptz, completed_at timestamptz,
        duration_seconds float8, screenshot_path varchar(500), screenshot_before varchar(500),
        screenshot_after varchar(500), retry_count int, is_critical boolean)
      on conflict (execution_id, step_number) do nothing
      returning result),
    counts as (
      select count(*)::int as total,
        count(*) filter (where s.result = 'pass')::int as passed,
        count(*) filter (where s.result = 'fail')::int as failed,
        count(*) filter (where s.result = 'error')::int as errored,
        count(*) filter (where s.result = 'skip')::int as skipped,
        (select count(*)::int from inserted) as inserted
      from (select result from inserted
            union all
            select result from test_execution_steps where execution_id = ${execution.id}::int) s)
    update test_executions e set
      total_steps = c.total,
      passed_steps = c.passed,
      failed_steps = c.failed + c.errored,
      skipped_steps = c.skipped,
      result = case
        when c.inserted = 0 then e.result
        when c.failed > 0 then 'fail'::execution_result
        when c.errored > 0 then 'error'::execution_result
        when c.skipped = c.total then 'skip'::execution_result
        else 'pass'::execution_result end,
      status = case when e.status = 'pending' then 'running'::execution_status else e.status end,
      started_at = case when e.status = 'pending' then coalesce(e.started_at, now()) else e.started_at end,
      updated_at = case when c.inserted > 0 then now() else e.updated_at end
    from counts c
    where e.id = ${execution.id}::int and (c.inserted > 0 or e.status = 'pending')
    returning e.id, e.status, e.result, e.total_steps, e.passed_steps, e.failed_steps,
      e.skipped_steps, pg_notify(${STEPS_CHANNEL}, e.id::text)`,
  );
  if (!row) return undefined;
  return {
    id: row.id,
    status: row.status,
    result: row.result,
    totalSteps: row.total_steps,
    passedSteps: row.passed_steps,
    failedSteps: row.failed_steps,
    skippedSteps: row.skipped_steps,
  };
}

/** Whether any of these step numbers is not stored yet. */
async function hasNewSteps(tx: Database, executionId: number, numbers: number[]) {
  const [row] = await tx
    .select({ stored: sql<number>`count(*)::int` })
    .from(testExecutionSteps)
    .where(
      and(
        eq(testExecutionSteps.executionId, executionId),
        inArray(testExecutionSteps.stepNumber, numbers),
      ),
    );
  return (row?.stored ?? 0) < numbers.length;
}

function summaryOf(execution: TestExecution): ExecutionSummary {
  const { id, status, result, totalSteps, passedSteps, failedSteps, skippedSteps } = execution;
  return { id, status, result, totalSteps, passedSteps, failedSteps, skippedSteps };
}

/**
 * Stores steps of an execution. A step number already stored is left as it is, so a retried
 * upload changes nothing (not even a result the runner set). The first step moves a pending
 * execution to running. With `returnSteps: false` the answer carries only the summary.
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
    if (isTerminal(execution.status) && (await hasNewSteps(tx, execution.id, numbers))) {
      throw new ConflictError(
        `execution ${execution.id} is already ${execution.status}; no new steps can be added`,
      );
    }
    const summary = (await storeSteps(tx, execution, input.steps)) ?? summaryOf(execution);
    if (summary.totalSteps > LIMITS.stepsPerExecution) {
      throw new InvalidInputError(
        `an execution can hold at most ${LIMITS.stepsPerExecution} steps`,
      );
    }
    const steps = input.returnSteps
      ? await tx
          .select()
          .from(testExecutionSteps)
          .where(
            and(
              eq(testExecutionSteps.executionId, execution.id),
              inArray(testExecutionSteps.stepNumber, numbers),
            ),
          )
          .orderBy(asc(testExecutionSteps.stepNumber))
      : [];
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
