import { and, asc, gt } from "drizzle-orm";
import type { Database } from "./db";
import { hasErrorCode } from "./errors";
import {
  type ExecutionPartition,
  executionSteps,
  type TestExecutionStep,
  testExecutionSteps,
} from "./schema";

/**
 * One execution's steps in step order (step.list, execution.get, the live feed), with ids above
 * `afterId` only when given. Read from the partition of the execution's month by name
 * (executionSteps); when that partition does not exist (undefined_table: its month's steps are
 * in the default partition, or retention dropped it after the execution was read, and its steps
 * with it), read again through the parent, which finds them. Not inside a transaction (the failed
 * statement would abort it): there, name only the partition a step was read from (partitionOfStep),
 * that the transaction holds a lock on.
 */
export async function readSteps(
  db: Database,
  executionId: number,
  partition: ExecutionPartition,
  afterId?: number,
): Promise<TestExecutionStep[]> {
  const read = async (at: ExecutionPartition) => {
    const { table, where } = executionSteps(executionId, at);
    return db
      .select()
      .from(table)
      .where(afterId === undefined ? where : and(where, gt(testExecutionSteps.id, afterId)))
      .orderBy(asc(testExecutionSteps.stepNumber));
  };
  try {
    return await read(partition);
  } catch (error) {
    if (!partition.partitionTable || !hasErrorCode(error, "42P01")) throw error;
    return read({ ...partition, partitionTable: null });
  }
}
