import { and, eq, lt, sql } from "drizzle-orm";
import type { Database } from "./db";
import { testExecutions } from "./schema";

/**
 * Marks executions that have been running without any activity (no step, no update) since
 * before `cutoff` as failed, saying why, so no run stays "in progress" forever.
 * Returns the ids it failed.
 */
export async function failStuckExecutions(
  db: Database,
  cutoff: Date,
  now = new Date(),
): Promise<number[]> {
  const idleSeconds = Math.round((now.getTime() - cutoff.getTime()) / 1000);
  const idle = idleSeconds < 120 ? `${idleSeconds} s` : `${Math.round(idleSeconds / 60)} min`;
  const rows = await db
    .update(testExecutions)
    .set({
      status: "failed",
      result: sql`coalesce(${testExecutions.result}, 'error'::execution_result)`,
      completedAt: now,
      durationSeconds: sql`extract(epoch from (${now.toISOString()}::timestamptz - coalesce(${testExecutions.startedAt}, ${testExecutions.createdAt})))`,
      errorMessage: sql`coalesce(${testExecutions.errorMessage} || E'\n', '') || ${`marked failed by the server: no activity for ${idle} while running (the runner probably crashed or lost its connection)`}`,
      updatedAt: now,
    })
    .where(and(eq(testExecutions.status, "running"), lt(testExecutions.updatedAt, cutoff)))
    .returning({ id: testExecutions.id });
  return rows.map((row) => row.id);
}
