import { sql } from "drizzle-orm";
import { type Database, queryRows } from "./db";

/** The most rows (executions and their steps) one retention batch deletes. */
export const RETENTION_BATCH_ROWS = 5_000;

export interface RetentionPreview {
  projectId: number;
  slug: string;
  retentionDays: number;
  /** Executions created before this go. */
  horizon: Date;
  executions: number;
  steps: number;
}

/** What project retention (`projects.retention_days`) would delete now; deletes nothing. */
export async function previewProjectRetention(
  db: Database,
  now = new Date(),
): Promise<RetentionPreview[]> {
  const rows = await queryRows<{
    project_id: number;
    slug: string;
    retention_days: number;
    horizon: Date | string;
    executions: number;
    steps: number;
  }>(
    db,
    sql`select p.id as project_id, p.slug, p.retention_days,
          ${now.toISOString()}::timestamptz - p.retention_days * interval '1 day' as horizon,
          count(e.id)::int as executions, coalesce(sum(e.total_steps), 0)::int as steps
        from projects p
        left join test_executions e on e.project_id = p.id
          and e.created_at < ${now.toISOString()}::timestamptz - p.retention_days * interval '1 day'
        where p.retention_days is not null
        group by p.id order by p.id`,
  );
  return rows.map((row) => ({
    projectId: row.project_id,
    slug: row.slug,
    retentionDays: row.retention_days,
    horizon: new Date(row.horizon),
    executions: row.executions,
    steps: row.steps,
  }));
}

export interface RetentionBatch {
  executions: number;
  steps: number;
}

/**
 * Deletes one batch of executions past their project's retention, oldest first, at most
 * `maxRows` rows counting each execution's steps; an execution with more steps than that has its
 * steps deleted in batches first, then itself. Rows another instance is deleting are skipped, so
 * any number of instances may run it. The roll-up triggers keep statistics exact.
 */
export async function deleteExpiredBatch(
  db: Database,
  now = new Date(),
  maxRows = RETENTION_BATCH_ROWS,
): Promise<RetentionBatch> {
  return db.transaction(async (tx) => {
    const due = await queryRows<{ id: number; total_steps: number }>(
      tx,
      sql`select e.id, e.total_steps from test_executions e join projects p on p.id = e.project_id
          where p.retention_days is not null
            and e.created_at < ${now.toISOString()}::timestamptz - p.retention_days * interval '1 day'
          order by e.id limit ${maxRows}
          for update of e skip locked`,
    );
    const chosen: number[] = [];
    let rows = 0;
    for (const execution of due) {
      if (rows + execution.total_steps + 1 > maxRows) break;
      chosen.push(execution.id);
      rows += execution.total_steps + 1;
    }
    const [first] = due;
    if (chosen.length === 0 && first) {
      // Its steps a batch at a time, then (once they fit in the batch) the execution itself.
      const deleted = await queryRows<{ id: number }>(
        tx,
        sql`delete from test_execution_steps where id in (
              select id from test_execution_steps where execution_id = ${first.id}
              limit ${maxRows - 1})
            returning id`,
      );
      if (deleted.length === maxRows - 1) return { executions: 0, steps: deleted.length };
      await tx.execute(sql`delete from test_executions where id = ${first.id}`);
      return { executions: 1, steps: deleted.length };
    }
    if (chosen.length === 0) return { executions: 0, steps: 0 };
    const deleted = await queryRows<{ total_steps: number }>(
      tx,
      sql`delete from test_executions where id = any(${`{${chosen.join(",")}}`}::int[])
          returning total_steps`,
    );
    return {
      executions: deleted.length,
      steps: deleted.reduce((sum, row) => sum + row.total_steps, 0),
    };
  });
}

/**
 * Deletes everything past project retention in batches of at most `maxRows` rows, pausing
 * `pauseMs` between batches so ingest is not starved; stops early when `signal` aborts.
 */
export async function applyProjectRetention(
  db: Database,
  options: { now?: Date; maxRows?: number; pauseMs?: number; signal?: AbortSignal } = {},
): Promise<RetentionBatch & { batches: number }> {
  const { now = new Date(), maxRows = RETENTION_BATCH_ROWS, pauseMs = 100, signal } = options;
  const total = { executions: 0, steps: 0, batches: 0 };
  while (!signal?.aborted) {
    const batch = await deleteExpiredBatch(db, now, maxRows);
    if (batch.executions === 0 && batch.steps === 0) break;
    total.executions += batch.executions;
    total.steps += batch.steps;
    total.batches++;
    await new Promise((resolve) => setTimeout(resolve, pauseMs));
  }
  return total;
}
