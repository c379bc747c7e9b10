import { and, asc, eq, getTableColumns, inArray, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, NEEDS, readableBy } from "./actor";
import { type Database, queryRows } from "./db";
import { ConflictError, ForbiddenError, InvalidInputError, NotFoundError } from "./errors";
import { type ExecutionSummary, lockExecution } from "./executions";
import { isTerminal } from "./lifecycle";
import { id, isoDateTime, LIMITS, text } from "./limits";
import { notifyStepsRecorded, STEPS_CHANNEL } from "./live";
import {
  EXECUTION_RESULTS,
  type ExecutionPartition,
  executionSteps,
  partitionKeyOf,
  partitionOf,
  partitionOfStep,
  stepPartition,
  stepsOfExecution,
  type TestExecutionStep,
  testExecutionSteps,
  testExecutions,
} from "./schema";
import { readSteps } from "./stepReads";

const longText = text().max(LIMITS.text);
const path = text().trim().min(1).max(LIMITS.path);

const stepFields = {
  stepDescription: text().trim().min(1, "must not be empty").max(LIMITS.text),
  result: z.enum(EXECUTION_RESULTS),
  expectedResult: longText.optional(),
  actualResult: longText.optional(),
  errorMessage: text().max(LIMITS.message).optional(),
  startedAt: isoDateTime.optional(),
  completedAt: isoDateTime.optional(),
  durationSeconds: z.number().min(0).max(LIMITS.durationSeconds).optional(),
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
  /** Only when the transaction already read or wrote through the parent (it holds its lock). */
  partition?: ExecutionPartition,
): Promise<ExecutionSummary> {
  const s = testExecutionSteps;
  const steps = executionSteps(executionId, partition);
  const counts = tx
    .select({
      total: sql<number>`count(*)::int`.as("total"),
      passed: sql<number>`count(*) filter (where ${s.result} = 'pass')::int`.as("passed"),
      failed: sql<number>`count(*) filter (where ${s.result} = 'fail')::int`.as("failed"),
      errored: sql<number>`count(*) filter (where ${s.result} = 'error')::int`.as("errored"),
      skipped: sql<number>`count(*) filter (where ${s.result} = 'skip')::int`.as("skipped"),
    })
    .from(steps.table)
    .where(steps.where)
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

/** The steps as testtrack_record_steps reads them: snake_case keys, empty fields left out. */
function stepRows(steps: StepInput[]) {
  return steps.map((step) => ({
    step_number: step.stepNumber,
    step_description: step.stepDescription,
    expected_result: step.expectedResult,
    result: step.result,
    actual_result: step.actualResult,
    error_message: step.errorMessage,
    started_at: step.startedAt?.toISOString(),
    completed_at: step.completedAt?.toISOString(),
    duration_seconds: step.durationSeconds,
    screenshot_path: step.screenshotPath,
    screenshot_before: step.screenshotBefore,
    screenshot_after: step.screenshotAfter,
    retry_count: step.retryCount,
    is_critical: step.isCritical,
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

/** The SQLSTATE codes testtrack_record_steps raises (migration 0008), as domain errors. */
function recordStepsError(error: unknown, executionId: number): unknown {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    if (code === "TT404") return new NotFoundError("Execution", executionId);
    if (code === "TT403") return new ForbiddenError(cause.message);
    if (code === "TT409") return new ConflictError(cause.message);
    if (code === "TT422") return new InvalidInputError(cause.message);
  }
  return error;
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
  return recordValidatedSteps(db, actor, recordStepsInput.parse(raw));
}

/**
 * `recordSteps` for an input that `recordStepsInput` has already parsed (the tRPC procedure's
 * own `.input()`): ingest's hot path, where a second parse of up to 2,000 steps cost as much CPU
 * as the rest of the server's work on the call.
 */
export async function recordValidatedSteps(
  db: Database,
  actor: Actor,
  input: z.output<typeof recordStepsInput>,
): Promise<RecordStepsResult> {
  // One statement (migration 0008): lock, lifecycle check, insert, summary, notify and limit,
  // in its own transaction: one round trip instead of five.
  const [row] = await queryRows<StoredSummaryRow>(
    db,
    sql`select * from testtrack_record_steps(${input.executionId}::int, ${actor.id}::int,
      ${actor.role === "admin"}::boolean, ${actor.scope?.projectId ?? null}::int,
      ${actor.scope?.role ?? null}::project_role, ${JSON.stringify(stepRows(input.steps))}::json, ${LIMITS.stepsPerExecution}::int,
      ${STEPS_CHANNEL}::text)`,
  ).catch((error: unknown) => {
    throw recordStepsError(error, input.executionId);
  });
  if (!row) throw new NotFoundError("Execution", input.executionId);
  const summary: ExecutionSummary = {
    id: row.id,
    status: row.status,
    result: row.result,
    totalSteps: row.total_steps,
    passedSteps: row.passed_steps,
    failedSteps: row.failed_steps,
    skippedSteps: row.skipped_steps,
  };
  const steps = input.returnSteps
    ? await db
        .select()
        .from(testExecutionSteps)
        .where(
          and(
            stepsOfExecution(input.executionId),
            inArray(
              testExecutionSteps.stepNumber,
              input.steps.map((step) => step.stepNumber),
            ),
          ),
        )
        .orderBy(asc(testExecutionSteps.stepNumber))
    : [];
  return { steps, summary };
}

export async function listSteps(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listStepsInput>,
): Promise<TestExecutionStep[]> {
  const input = listStepsInput.parse(raw);
  const [execution] = await db
    .select({ partitionKey: partitionKeyOf })
    .from(testExecutions)
    .where(
      and(eq(testExecutions.id, input.executionId), readableBy(actor, testExecutions.projectId)),
    );
  if (!execution) throw new NotFoundError("Execution", input.executionId);
  return readSteps(db, input.executionId, partitionOf(execution.partitionKey));
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
    const execution = await lockExecution(tx, actor, owner.executionId, NEEDS.write).catch(
      (error) => {
        throw error instanceof NotFoundError ? new NotFoundError("Step", stepId) : error;
      },
    );
    if (isTerminal(execution.status)) {
      throw new ConflictError(
        `execution ${execution.id} is already ${execution.status}; its steps cannot change`,
      );
    }
    const [updated] = await tx
      .update(testExecutionSteps)
      .set(changes)
      .where(eq(testExecutionSteps.id, stepId))
      .returning({ ...getTableColumns(testExecutionSteps), ...partitionOfStep });
    if (!updated) throw new NotFoundError("Step", stepId);
    const { partitionTable, partitionKey, ...step } = updated;
    // The partition the step is in holds all of its execution's steps, and keeps them until this
    // transaction ends: the execution's lock keeps its created_at (and so its steps' key) and its
    // steps as they are, and reading through the parent took a lock on it that dropping,
    // creating or detaching a partition (or emptying the default one) must wait for.
    const summary = await updateExecutionSummary(
      tx,
      execution.id,
      stepPartition(partitionTable, partitionKey),
    );
    await notifyStepsRecorded(tx, execution.id);
    return { steps: [step], summary };
  });
}
