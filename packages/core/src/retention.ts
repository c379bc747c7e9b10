import { sql } from "drizzle-orm";
import { type Database, queryRows } from "./db";
import { stepsOfExecution } from "./schema";

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

export interface InstanceRetentionPreview {
  retentionDays: number;
  horizon: Date;
  /** The step partitions that would be dropped whole. */
  partitions: StepPartition[];
  /** Executions created before the horizon, and their steps. */
  executions: number;
  steps: number;
}

export interface ArtifactRetentionPreview {
  projectId: number;
  slug: string;
  passedDays: number | null;
  failedDays: number | null;
  artifacts: number;
  bytes: number;
}

export interface RetentionPlan {
  /** TESTTRACK_RETENTION_DAYS, when set. */
  instance: InstanceRetentionPreview | null;
  /** Each project with retentionDays. */
  projects: RetentionPreview[];
  /** Each project with artifactRetentionDays. */
  artifacts: ArtifactRetentionPreview[];
}

/** Everything a retention pass would delete now (`testtrack retention --dry-run`); deletes nothing. */
export async function previewRetention(
  db: Database,
  options: { now?: Date; instanceRetentionDays?: number | null } = {},
): Promise<RetentionPlan> {
  const { now = new Date(), instanceRetentionDays = null } = options;
  const horizon = instanceHorizon(instanceRetentionDays, now);
  let instance: InstanceRetentionPreview | null = null;
  if (instanceRetentionDays && horizon) {
    const [counts] = await queryRows<{ executions: number; steps: number | string }>(
      db,
      sql`select count(*)::int as executions, coalesce(sum(total_steps), 0)::bigint as steps
          from test_executions where created_at < ${horizon.toISOString()}::timestamptz`,
    );
    instance = {
      retentionDays: instanceRetentionDays,
      horizon,
      partitions: (await listStepPartitions(db)).filter((p) => p.to <= horizon),
      executions: counts?.executions ?? 0,
      steps: Number(counts?.steps ?? 0),
    };
  }
  const artifactRows = await queryRows<{
    project_id: number;
    slug: string;
    passed_days: number | null;
    failed_days: number | null;
    artifacts: number;
    bytes: number | string;
  }>(
    db,
    sql`select p.id as project_id, p.slug, p.artifact_retention_passed_days as passed_days,
          p.artifact_retention_failed_days as failed_days,
          count(a.id)::int as artifacts, coalesce(sum(a.size), 0)::bigint as bytes
        from projects p
        left join (artifacts a join test_executions e on e.id = a.execution_id)
          on a.project_id = p.id and ${expiredArtifact(now)}
        where p.artifact_retention_passed_days is not null
          or p.artifact_retention_failed_days is not null
        group by p.id order by p.id`,
  );
  return {
    instance,
    projects: await previewProjectRetention(db, now),
    artifacts: artifactRows.map((row) => ({
      projectId: row.project_id,
      slug: row.slug,
      passedDays: row.passed_days,
      failedDays: row.failed_days,
      artifacts: row.artifacts,
      bytes: Number(row.bytes),
    })),
  };
}

export interface RetentionBatch {
  executions: number;
  steps: number;
}

export interface DeleteExpiredOptions {
  now?: Date;
  maxRows?: number;
  /** The instance-wide horizon (TESTTRACK_RETENTION_DAYS): executions created before it go too. */
  instanceHorizon?: Date | null;
}

/**
 * Deletes one batch of executions past their project's retention or the instance-wide horizon,
 * oldest first, at most `maxRows` rows counting each execution's steps; an execution with more
 * steps than that has its steps deleted in batches first, then itself. Executions older than the
 * oldest step partition count as one row: their steps went with a dropped partition. Rows another
 * instance is deleting are skipped, so any number of instances may run it. The roll-up triggers
 * keep statistics exact.
 */
export async function deleteExpiredBatch(
  db: Database,
  options: DeleteExpiredOptions = {},
): Promise<RetentionBatch> {
  const { now = new Date(), maxRows = RETENTION_BATCH_ROWS, instanceHorizon = null } = options;
  return db.transaction(async (tx) => {
    const due = await queryRows<{ id: number; total_steps: number }>(
      tx,
      sql`select e.id,
            case when e.created_at < (select min(p.from_at) from testtrack_step_partitions() p)
              then 0 else e.total_steps end as total_steps
          from test_executions e join projects p on p.id = e.project_id
          where (p.retention_days is not null
              and e.created_at < ${now.toISOString()}::timestamptz - p.retention_days * interval '1 day')
            or e.created_at < ${instanceHorizon?.toISOString() ?? null}::timestamptz
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
              select id from test_execution_steps where ${stepsOfExecution(first.id)}
              limit ${maxRows - 1})
            returning id`,
      );
      if (deleted.length === maxRows - 1) return { executions: 0, steps: deleted.length };
      await tx.execute(sql`delete from test_executions where id = ${first.id}`);
      return { executions: 1, steps: deleted.length };
    }
    if (chosen.length === 0) return { executions: 0, steps: 0 };
    const deleted = await queryRows<{ id: number }>(
      tx,
      sql`delete from test_executions where id = any(${`{${chosen.join(",")}}`}::int[])
          returning id`,
    );
    return { executions: deleted.length, steps: rows - chosen.length };
  });
}

/** How many months ahead of the current one the server keeps step partitions. */
export const STEP_PARTITION_MONTHS_AHEAD = 3;

/** A monthly partition of test_execution_steps: [from, to), and PostgreSQL's row estimate. */
export interface StepPartition {
  name: string;
  from: Date;
  to: Date;
  estimatedRows: number;
}

interface StepPartitionRow {
  name: string;
  from_at: Date | string;
  to_at: Date | string;
  estimated_rows: number | bigint;
}

function stepPartition(row: StepPartitionRow): StepPartition {
  return {
    name: row.name,
    from: new Date(row.from_at),
    to: new Date(row.to_at),
    estimatedRows: Number(row.estimated_rows),
  };
}

/**
 * Creates the step partitions of the current month and `monthsAhead` more where missing (steps
 * that arrived early in the default partition move into theirs); answers how many it created.
 * Every instance may call it: an advisory lock serialises them.
 */
export async function ensureStepPartitions(
  db: Database,
  monthsAhead = STEP_PARTITION_MONTHS_AHEAD,
): Promise<number> {
  const [row] = await queryRows<{ created: number }>(
    db,
    sql`select testtrack_ensure_step_partitions(${monthsAhead}::int) as created`,
  );
  return row?.created ?? 0;
}

/** The monthly step partitions, oldest first. */
export async function listStepPartitions(db: Database): Promise<StepPartition[]> {
  const rows = await queryRows<StepPartitionRow>(
    db,
    sql`select * from testtrack_step_partitions()`,
  );
  return rows.map(stepPartition);
}

/** Drops every monthly step partition that ends at or before `horizon`; answers what it dropped. */
export async function dropExpiredStepPartitions(
  db: Database,
  horizon: Date,
): Promise<StepPartition[]> {
  const rows = await queryRows<StepPartitionRow>(
    db,
    sql`select * from testtrack_drop_step_partitions(${horizon.toISOString()}::timestamptz)`,
  );
  return rows.map(stepPartition);
}

/** The instance-wide horizon: now less `days` days, or null when there is none. */
export function instanceHorizon(days: number | null | undefined, now = new Date()): Date | null {
  return days ? new Date(now.getTime() - days * 86_400_000) : null;
}

/**
 * Deletes one batch of artifacts past their project's `artifactRetentionDays` (passed: pass and
 * skip results; failed: fail and error), at most `maxRows`; their bytes go through the deletion
 * outbox. Answers how many and how many bytes.
 */
export async function deleteExpiredArtifactsBatch(
  db: Database,
  options: { now?: Date; maxRows?: number } = {},
): Promise<{ artifacts: number; bytes: number }> {
  const { now = new Date(), maxRows = RETENTION_BATCH_ROWS } = options;
  const rows = await queryRows<{ n: number; bytes: number | string | null }>(
    db,
    sql`with doomed as (
          select a.id from artifacts a
          join projects p on p.id = a.project_id
          join test_executions e on e.id = a.execution_id
          where ${expiredArtifact(now)}
          order by a.id limit ${maxRows}
          for update of a skip locked),
        deleted as (delete from artifacts where id in (select id from doomed) returning size)
        select count(*)::int as n, sum(size)::bigint as bytes from deleted`,
  );
  return { artifacts: rows[0]?.n ?? 0, bytes: Number(rows[0]?.bytes ?? 0) };
}

/** An artifact `a` of execution `e` in project `p` past the project's artifact retention. */
function expiredArtifact(now: Date) {
  const at = sql`${now.toISOString()}::timestamptz`;
  return sql`((p.artifact_retention_passed_days is not null and e.result in ('pass', 'skip')
              and a.created_at < ${at} - p.artifact_retention_passed_days * interval '1 day')
          or (p.artifact_retention_failed_days is not null and e.result in ('fail', 'error')
              and a.created_at < ${at} - p.artifact_retention_failed_days * interval '1 day'))`;
}

export interface RetentionOptions {
  now?: Date;
  /** TESTTRACK_RETENTION_DAYS: the instance-wide horizon in days (none when null). */
  instanceRetentionDays?: number | null;
  maxRows?: number;
  pauseMs?: number;
  signal?: AbortSignal;
}

export interface RetentionOutcome extends RetentionBatch {
  /** The step partitions dropped whole. */
  partitionsDropped: string[];
  artifacts: number;
  batches: number;
}

/**
 * One retention pass: drops whole step partitions past the instance-wide horizon, then deletes
 * executions past it or their project's `retentionDays` and artifacts past their project's
 * `artifactRetentionDays`, in batches of at most `maxRows` rows with `pauseMs` between them so
 * ingest is not starved; stops early when `signal` aborts.
 */
export async function applyRetention(
  db: Database,
  options: RetentionOptions = {},
): Promise<RetentionOutcome> {
  const { now = new Date(), maxRows = RETENTION_BATCH_ROWS, pauseMs = 100, signal } = options;
  const horizon = instanceHorizon(options.instanceRetentionDays, now);
  const dropped = horizon ? await dropExpiredStepPartitions(db, horizon) : [];
  const total: RetentionOutcome = {
    partitionsDropped: dropped.map((partition) => partition.name),
    executions: 0,
    steps: dropped.reduce((sum, partition) => sum + partition.estimatedRows, 0),
    artifacts: 0,
    batches: 0,
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, pauseMs));
  while (!signal?.aborted) {
    const batch = await deleteExpiredBatch(db, { now, maxRows, instanceHorizon: horizon });
    if (batch.executions === 0 && batch.steps === 0) break;
    total.executions += batch.executions;
    total.steps += batch.steps;
    total.batches++;
    await pause();
  }
  while (!signal?.aborted) {
    const batch = await deleteExpiredArtifactsBatch(db, { now, maxRows });
    if (batch.artifacts === 0) break;
    total.artifacts += batch.artifacts;
    total.batches++;
    await pause();
  }
  return total;
}
