import { and, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, readableBy } from "./actor";
import type { Database, DatabaseHandle } from "./db";
import { NotFoundError } from "./errors";
import { id } from "./limits";
import {
  partitionKeyOf,
  partitionOf,
  type TestExecution,
  type TestExecutionStep,
  testExecutions,
} from "./schema";
import { readSteps } from "./stepReads";

/** The PostgreSQL channel that carries the id of every execution whose steps or status changed. */
export const STEPS_CHANNEL = "testtrack_steps";

/**
 * Tells every listener, on any server instance, that an execution changed. Call it inside the
 * writing transaction: PostgreSQL delivers the notification only when that transaction commits
 * (and merges repeats within it), so a listener that reads afterwards sees the change.
 */
export async function notifyStepsRecorded(tx: Database, executionId: number): Promise<void> {
  await tx.execute(sql`select pg_notify(${STEPS_CHANNEL}, ${String(executionId)})`);
}

/**
 * Calls `onExecutionId` with the id of each execution a committed transaction changed, and
 * `onListen` whenever the listener is (re)established, when changes may have been missed.
 * Resolves once listening, with a function that stops.
 */
export function listenForSteps(
  handle: Pick<DatabaseHandle, "listen">,
  onExecutionId: (executionId: number) => void,
  onListen?: () => void,
): Promise<() => Promise<void>> {
  return handle.listen(
    STEPS_CHANNEL,
    (payload) => {
      const executionId = Number(payload);
      if (Number.isSafeInteger(executionId) && executionId > 0) onExecutionId(executionId);
    },
    onListen,
  );
}

/**
 * A subscription to an execution's steps. `lastEventId` is the cursor of the last event a
 * client received (tRPC sends it back when an SSE connection resumes).
 */
export const watchStepsInput = z.strictObject({
  executionId: id,
  lastEventId: z
    .string()
    .regex(/^\d{1,10}$/, "must be the id of an event this subscription sent")
    .transform(Number)
    .pipe(z.number().max(2_147_483_647, "must be the id of an event this subscription sent"))
    .nullish(),
});

/** What a live view needs to know about an execution besides its steps. */
export type LiveExecution = Pick<
  TestExecution,
  | "id"
  | "status"
  | "result"
  | "totalSteps"
  | "passedSteps"
  | "failedSteps"
  | "skippedSteps"
  | "startedAt"
  | "completedAt"
  | "durationSeconds"
  | "errorMessage"
  | "updatedAt"
>;

export interface StepsSince {
  execution: LiveExecution;
  /** Steps stored after the cursor, in step order. */
  steps: TestExecutionStep[];
  /** The cursor to pass next time: the highest step id seen so far. */
  cursor: number;
}

const liveColumns = {
  id: testExecutions.id,
  status: testExecutions.status,
  result: testExecutions.result,
  totalSteps: testExecutions.totalSteps,
  passedSteps: testExecutions.passedSteps,
  failedSteps: testExecutions.failedSteps,
  skippedSteps: testExecutions.skippedSteps,
  startedAt: testExecutions.startedAt,
  completedAt: testExecutions.completedAt,
  durationSeconds: testExecutions.durationSeconds,
  errorMessage: testExecutions.errorMessage,
  updatedAt: testExecutions.updatedAt,
};

/**
 * The execution's summary and the steps stored after `cursor`, a step id. Step ids, not step
 * numbers, make the cursor: steps may arrive out of number order, but writers of one execution
 * hold its row lock while inserting, so its step ids (from an identity sequence without a cache)
 * grow in commit order and none is skipped.
 * NOT_FOUND when the actor cannot see the execution.
 */
export async function executionStepsSince(
  db: Database,
  actor: Actor,
  executionId: number,
  cursor: number,
): Promise<StepsSince> {
  // The execution first: once it reads as finished, every step was committed before this read,
  // so the steps read next are complete.
  const [found] = await db
    .select({ ...liveColumns, partitionKey: partitionKeyOf })
    .from(testExecutions)
    .where(and(eq(testExecutions.id, executionId), readableBy(actor, testExecutions.projectId)));
  if (!found) throw new NotFoundError("Execution", executionId);
  const { partitionKey, ...execution } = found;
  const steps = await readSteps(db, executionId, partitionOf(partitionKey), cursor);
  const next = steps.reduce((highest, step) => Math.max(highest, step.id), cursor);
  return { execution, steps, cursor: next };
}
