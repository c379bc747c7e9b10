import { and, asc, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import {
  type Actor,
  assertRole,
  defaultProjectId,
  NEEDS,
  projectRoleSql,
  readScope,
  targetProject,
} from "./actor";
import { type Database, queryRows } from "./db";
import { ConflictError, NotFoundError } from "./errors";
import {
  cleanText,
  decodeKeysetCursor,
  encodeKeysetCursor,
  id,
  keysetCursor,
  LIMITS,
  pageDirection,
  pagination,
  text,
} from "./limits";
import {
  artifacts,
  type ProjectRole,
  projects,
  RUN_STATUSES,
  type Run,
  type RunStatus,
  runShards,
  runs,
  runTests,
  TEST_OUTCOMES,
  type TestOutcome,
  testCases,
  testExecutions,
} from "./schema";

const shortText = text().trim().min(1).max(LIMITS.name);

/** The most shards a run may expect: far beyond any CI matrix. */
export const MAX_SHARDS = 1_000;
const shardNumber = z.number().int().min(1).max(MAX_SHARDS);
/** A CI re-run of the build or job: 0 first. */
export const attemptNumber = z.number().int().min(0).max(1_000);

export const startRunInput = z.strictObject({
  projectId: id.optional(),
  /** Stable across the shards and re-runs of one build (`detectRun` in the client builds it). */
  key: text().trim().min(1, "must not be empty").max(LIMITS.runKey),
  name: shortText.optional(),
  branch: shortText.optional(),
  commitSha: text().trim().min(1).max(64).optional(),
  commitMessage: text().max(LIMITS.text).optional(),
  pullRequest: shortText.optional(),
  ciProvider: text().trim().min(1).max(LIMITS.shortLabel).optional(),
  ciUrl: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
    .max(LIMITS.url)
    .overwrite(cleanText)
    .optional(),
  expectedShards: shardNumber.optional(),
  /** The shard joining (1-based), e.g. Playwright's `--shard 2/4`. */
  shard: shardNumber.optional(),
  attempt: attemptNumber.default(0),
});

export const finishShardInput = z.strictObject({ runId: id, shard: shardNumber });

export const finishRunInput = z.strictObject({
  runId: id,
  /** Default: failed when a test failed, else passed. */
  status: z.enum(["passed", "failed", "cancelled"]).optional(),
});

export const runIdInput = z.strictObject({ runId: id });

export const deleteRunInput = z.strictObject({ id });

const pageSize = pagination.limit;

export const listRunsInput = z
  .strictObject({
    projectId: id.optional(),
    branch: shortText.optional(),
    status: z.enum(RUN_STATUSES).optional(),
    cursor: keysetCursor("run.list").optional(),
    direction: pageDirection,
    limit: pageSize,
  })
  .default({ limit: 50 });

export const getRunInput = z
  .strictObject({
    /** The run by id, or by its key (in `projectId`, default the token's or personal project). */
    id: id.optional(),
    key: text().trim().min(1).max(LIMITS.runKey).optional(),
    projectId: id.optional(),
    /** The page of tests shown: one outcome, or all (by outcome, then test case id). */
    outcome: z.enum(TEST_OUTCOMES).optional(),
    /** Only the tests whose title contains this text (case-insensitive). */
    search: text().trim().min(1).max(LIMITS.name).optional(),
    /** `testsPage.nextCursor` of the previous page (a test case id). */
    cursor: id.optional(),
    direction: pageDirection,
    limit: pageSize,
  })
  .refine((input) => (input.id === undefined) !== (input.key === undefined), {
    message: "name the run by id or by key (exactly one)",
    path: ["id"],
  });

export const compareRunsInput = z.strictObject({
  runId: id,
  /** Default: the latest finished run of the project's default branch started before it. */
  baseRunId: id.optional(),
  /** Items per bucket (the counts are always complete). */
  limit: z.number().int().min(1).max(1_000).default(100),
});

export interface RunView extends Run {
  durationSeconds: number | null;
  shards: { shard: number; attempt: number; startedAt: Date; finishedAt: Date | null }[];
}

export interface StartRunResult extends RunView {
  /** True when this call created the run (false: it joined one). */
  created: boolean;
}

const TERMINAL_RUN: readonly RunStatus[] = ["passed", "failed", "cancelled", "timed_out"];

function durationOf(run: Run): number | null {
  return run.finishedAt ? (run.finishedAt.getTime() - run.startedAt.getTime()) / 1000 : null;
}

async function shardsOf(db: Database, runId: number): Promise<RunView["shards"]> {
  return db
    .select({
      shard: runShards.shard,
      attempt: runShards.attempt,
      startedAt: runShards.startedAt,
      finishedAt: runShards.finishedAt,
    })
    .from(runShards)
    .where(eq(runShards.runId, runId))
    .orderBy(asc(runShards.shard));
}

async function viewOf(db: Database, run: Run): Promise<RunView> {
  return { ...run, durationSeconds: durationOf(run), shards: await shardsOf(db, run.id) };
}

/**
 * Starts a run, or joins the run of this (project, key): one INSERT ... ON CONFLICT, so any
 * number of shards and retries starting at once make one run. A joining call fills fields still
 * empty and never resets counts. A CI re-run (`attempt` > 0) of a finished run opens it again.
 */
export async function startRun(
  db: Database,
  actor: Actor,
  raw: z.input<typeof startRunInput>,
): Promise<StartRunResult> {
  const input = startRunInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.write);
  return db.transaction(async (tx) => {
    const [row] = await queryRows<{ id: number; created: boolean }>(
      tx,
      sql`insert into runs (project_id, key, name, branch, commit_sha, commit_message, pull_request,
            ci_provider, ci_url, expected_shards)
          values (${projectId}, ${input.key}, ${input.name ?? null}, ${input.branch ?? null},
            ${input.commitSha ?? null}, ${input.commitMessage ?? null}, ${input.pullRequest ?? null},
            ${input.ciProvider ?? null}, ${input.ciUrl ?? null}, ${input.expectedShards ?? null})
          on conflict (project_id, key) do update set
            name = coalesce(runs.name, excluded.name),
            branch = coalesce(runs.branch, excluded.branch),
            commit_sha = coalesce(runs.commit_sha, excluded.commit_sha),
            commit_message = coalesce(runs.commit_message, excluded.commit_message),
            pull_request = coalesce(runs.pull_request, excluded.pull_request),
            ci_provider = coalesce(runs.ci_provider, excluded.ci_provider),
            ci_url = coalesce(runs.ci_url, excluded.ci_url),
            expected_shards = coalesce(runs.expected_shards, excluded.expected_shards),
            status = case when ${input.attempt}::int > 0 and runs.status <> 'cancelled'
              then 'running'::run_status else runs.status end,
            finished_at = case when ${input.attempt}::int > 0 and runs.status <> 'cancelled'
              then null else runs.finished_at end,
            last_activity_at = now()
          returning id, (xmax = 0) as created`,
    );
    if (!row) throw new Error("run upsert returned no row");
    if (input.shard !== undefined) {
      // A shard joining again with a higher attempt (a CI re-run of it) is open again.
      await tx
        .insert(runShards)
        .values({ runId: row.id, shard: input.shard, attempt: input.attempt })
        .onConflictDoUpdate({
          target: [runShards.runId, runShards.shard],
          set: {
            attempt: sql`greatest(${runShards.attempt}, excluded.attempt)`,
            finishedAt: sql`case when excluded.attempt > ${runShards.attempt} then null else ${runShards.finishedAt} end`,
          },
        });
    }
    const [run] = await tx.select().from(runs).where(eq(runs.id, row.id));
    if (!run) throw new NotFoundError("Run", row.id);
    return { ...(await viewOf(tx, run)), created: row.created };
  });
}

/** The run, locked for the transaction, if the actor holds `need` in its project. */
async function lockRun(tx: Database, actor: Actor, runId: number, need: ProjectRole) {
  // Not FOR UPDATE: executions joining the run hold KEY SHARE on it through their foreign key.
  const [locked] = await tx
    .select({ id: runs.id })
    .from(runs)
    .where(eq(runs.id, runId))
    .for("no key update");
  // The role in a statement after the lock: it sees a membership change the lock waited for.
  const [row] = locked
    ? await tx
        .select({ run: runs, access: projectRoleSql(actor, runs.projectId) })
        .from(runs)
        .where(eq(runs.id, runId))
    : [];
  assertRole(row?.access, need, "Run", runId);
  if (!row) throw new NotFoundError("Run", runId);
  return row.run;
}

/** The verdict of a finished run: failed when a test's outcome is failed, else passed. */
const verdict = sql`case when ${runs.failed} > 0 then 'failed'::run_status else 'passed'::run_status end`;

/**
 * Marks a shard finished; when every expected shard has, the run finishes with its verdict.
 * The run row is locked first, so of two last shards finishing at once, the later one sees the
 * other's shard and finishes the run.
 */
export async function finishShard(
  db: Database,
  actor: Actor,
  raw: z.input<typeof finishShardInput>,
): Promise<RunView> {
  const input = finishShardInput.parse(raw);
  const view = await db.transaction(async (tx) => {
    await lockRun(tx, actor, input.runId, NEEDS.write);
    await tx
      .insert(runShards)
      .values({ runId: input.runId, shard: input.shard, finishedAt: new Date() })
      .onConflictDoUpdate({
        target: [runShards.runId, runShards.shard],
        set: { finishedAt: sql`coalesce(${runShards.finishedAt}, now())` },
      });
    await tx
      .update(runs)
      .set({ status: verdict, finishedAt: new Date(), lastActivityAt: new Date() })
      .where(
        and(
          eq(runs.id, input.runId),
          eq(runs.status, "running"),
          sql`${runs.expectedShards} is not null`,
          sql`(select count(*) from run_shards s where s.run_id = ${input.runId} and s.finished_at is not null) >= ${runs.expectedShards}`,
        ),
      );
    const [run] = await tx.select().from(runs).where(eq(runs.id, input.runId));
    if (!run) throw new NotFoundError("Run", input.runId);
    return viewOf(tx, run);
  });
  if (view.status !== "running") await cancelOpenExecutions(db, [view.id]);
  return view;
}

/**
 * Finishes a run now, with its verdict or the given status. Finishing a finished run again is a
 * no-op; asking it to end otherwise than it did is a CONFLICT. Cancelling also cancels its
 * executions still pending or running.
 */
export async function finishRun(
  db: Database,
  actor: Actor,
  raw: z.input<typeof finishRunInput>,
): Promise<RunView> {
  const input = finishRunInput.parse(raw);
  const finished = await db.transaction(async (tx) => {
    const current = await lockRun(tx, actor, input.runId, NEEDS.write);
    if (TERMINAL_RUN.includes(current.status)) {
      if (input.status && input.status !== current.status) {
        throw new ConflictError(
          `run ${current.id} already ended as ${current.status}; it cannot become ${input.status}`,
        );
      }
      return current;
    }
    const [run] = await tx
      .update(runs)
      .set({
        status: input.status ?? verdict,
        finishedAt: new Date(),
        lastActivityAt: new Date(),
      })
      .where(eq(runs.id, input.runId))
      .returning();
    if (!run) throw new NotFoundError("Run", input.runId);
    return run;
  });
  // Executions still open in a finished run (a killed shard's) are cancelled, after the run's
  // lock is released: finishing executions lock their run (for its counts) after their
  // roll-ups, so cancelling them while holding it could deadlock.
  await cancelOpenExecutions(db, [finished.id]);
  return viewOf(db, finished);
}

export function cancelRun(db: Database, actor: Actor, raw: z.input<typeof runIdInput>) {
  const input = runIdInput.parse(raw);
  return finishRun(db, actor, { runId: input.runId, status: "cancelled" });
}

export interface DeletedRun {
  id: number;
  /** The run's executions deleted with it (their steps and artifacts went by cascade). */
  executions: number;
  /** Their artifacts, whose bytes the deletion outbox removes after commit. */
  artifacts: number;
}

/**
 * Deletes a run with its executions, their steps and artifacts (maintainers); the artifacts'
 * bytes follow through the deletion outbox. The project's health roll-ups are rebuilt when the
 * run had been rolled up (it had finished), so its outcomes stop counting as evidence.
 */
export async function deleteRun(
  db: Database,
  actor: Actor,
  raw: z.input<typeof deleteRunInput>,
): Promise<DeletedRun> {
  const input = deleteRunInput.parse(raw);
  return db.transaction(async (tx) => {
    const [found] = await tx
      .select({ run: runs, access: projectRoleSql(actor, runs.projectId) })
      .from(runs)
      .where(eq(runs.id, input.id));
    assertRole(found?.access, NEEDS.manage, "Run", input.id);
    if (!found) throw new NotFoundError("Run", input.id);
    const [counted] = await queryRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from ${artifacts} a
          join ${testExecutions} e on e.id = a.execution_id
          where e.run_id = ${input.id}`,
    );
    // The executions before the run's lock: a finishing execution locks its own row, then its
    // run, so taking them in the same order cannot deadlock with one.
    const deleted = await deleteRunExecutions(tx, input.id);
    // With the run locked FOR UPDATE no execution can join it any more; one that joined in
    // between goes too (the foreign key would only set its run_id to null).
    await tx.select({ id: runs.id }).from(runs).where(eq(runs.id, input.id)).for("update");
    const late = await deleteRunExecutions(tx, input.id);
    await tx.delete(runs).where(eq(runs.id, input.id));
    if (found.run.status !== "running") {
      await queryRows(tx, sql`select testtrack_rebuild_health(${found.run.projectId}::int)`);
    }
    return { id: input.id, executions: deleted + late, artifacts: counted?.n ?? 0 };
  });
}

async function deleteRunExecutions(tx: Database, runId: number): Promise<number> {
  const gone = await tx
    .delete(testExecutions)
    .where(eq(testExecutions.runId, runId))
    .returning({ id: testExecutions.id });
  return gone.length;
}

async function cancelOpenExecutions(tx: Database, runIds: number[]) {
  if (runIds.length === 0) return;
  await tx
    .update(testExecutions)
    .set({
      status: "cancelled",
      completedAt: sql`coalesce(${testExecutions.completedAt}, now())`,
      errorMessage: sql`coalesce(${testExecutions.errorMessage}, 'cancelled: its run ended before it finished')`,
      updatedAt: new Date(),
    })
    .where(
      and(
        inArray(testExecutions.runId, runIds),
        inArray(testExecutions.status, ["pending", "running"]),
      ),
    );
}

/**
 * Marks runs with no activity since `cutoff` timed_out and cancels their open executions. One
 * UPDATE claims the runs, so on several instances each run is timed out by one of them.
 */
export async function timeOutQuietRuns(db: Database, cutoff: Date): Promise<number[]> {
  const quietSince = sql`${cutoff.toISOString()}::timestamptz`;
  const timedOut = await db
    .update(runs)
    .set({ status: "timed_out", finishedAt: new Date() })
    .where(
      and(
        eq(runs.status, "running"),
        sql`${runs.lastActivityAt} < ${quietSince}`,
        // Executions starting or recording steps are activity too (they do not touch the run).
        sql`not exists (select 1 from test_executions e where e.run_id = ${runs.id} and e.updated_at >= ${quietSince})`,
      ),
    )
    .returning({ id: runs.id });
  const ids = timedOut.map((run) => run.id);
  // Separately, as in finishRun; should this process die in between, the stuck-execution
  // sweeper fails them later.
  await cancelOpenExecutions(db, ids);
  return ids;
}

/** Runs newest first, paged by cursor, in one project (an admin naming none: every project). */
export async function listRuns(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listRunsInput>,
): Promise<{ items: Run[]; limit: number; nextCursor: string | null }> {
  const input = listRunsInput.parse(raw);
  const project = await readScope(db, actor, input.projectId);
  const after = input.cursor ? decodeKeysetCursor(input.cursor) : undefined;
  const items = await db
    .select()
    .from(runs)
    .where(
      and(
        project === null ? undefined : eq(runs.projectId, project),
        input.branch ? eq(runs.branch, input.branch) : undefined,
        input.status ? eq(runs.status, input.status) : undefined,
        after
          ? // The run's exact (microsecond) start from the table; the cursor's copy if it is gone.
            sql`(${runs.startedAt}, ${runs.id}) < (coalesce((select c.started_at from runs c where c.id = ${after.id}), ${after.at.toISOString()}::timestamptz), ${after.id})`
          : undefined,
      ),
    )
    .orderBy(desc(runs.startedAt), desc(runs.id))
    .limit(input.limit);
  const last = items[items.length - 1];
  return {
    items,
    limit: input.limit,
    nextCursor:
      items.length === input.limit && last
        ? encodeKeysetCursor({ id: last.id, at: last.startedAt })
        : null,
  };
}

export interface RunTestItem {
  testCaseId: number;
  title: string;
  key: string | null;
  outcome: TestOutcome;
  attempts: number;
  executionId: number;
  durationSeconds: number | null;
  errorMessage: string | null;
  /** In quarantine when its outcome was recorded: a failure counts in `quarantined`, not `failed`. */
  quarantined: boolean;
}

async function readableRun(db: Database, actor: Actor, runId: number): Promise<Run> {
  const [row] = await db
    .select({ run: runs, access: projectRoleSql(actor, runs.projectId) })
    .from(runs)
    .where(eq(runs.id, runId));
  assertRole(row?.access, NEEDS.read, "Run", runId);
  if (!row) throw new NotFoundError("Run", runId);
  return row.run;
}

async function runByKey(
  db: Database,
  actor: Actor,
  key: string,
  projectId: number | undefined,
): Promise<Run> {
  const project = projectId ?? (await defaultProjectId(db, actor));
  const [row] = await db
    .select({ run: runs, access: projectRoleSql(actor, runs.projectId) })
    .from(runs)
    .where(and(eq(runs.projectId, project), eq(runs.key, key)));
  assertRole(row?.access, NEEDS.read, "Run", key);
  if (!row) throw new NotFoundError("Run", key);
  return row.run;
}

const OUTCOME_ORDER = sql`array_position(array['failed', 'flaky', 'skipped', 'passed']::test_outcome[], ${runTests.outcome})`;

function runTestsQuery(db: Database, runId: number, where: SQL | undefined) {
  return db
    .select({
      testCaseId: runTests.testCaseId,
      title: testCases.title,
      key: testCases.key,
      outcome: runTests.outcome,
      attempts: runTests.attempts,
      executionId: runTests.executionId,
      durationSeconds: runTests.durationSeconds,
      errorMessage: testExecutions.errorMessage,
      quarantined: runTests.quarantined,
    })
    .from(runTests)
    .innerJoin(testCases, eq(testCases.id, runTests.testCaseId))
    .leftJoin(testExecutions, eq(testExecutions.id, runTests.executionId))
    .where(and(eq(runTests.runId, runId), where));
}

/**
 * A run with its counts, duration and shards, and one page of its tests: those of `outcome`, or
 * all of them failed first (then flaky, skipped, passed), by test case id within an outcome;
 * only those whose title contains `search` when it is given.
 */
export async function getRun(
  db: Database,
  actor: Actor,
  raw: z.input<typeof getRunInput>,
): Promise<RunView & { testsPage: { items: RunTestItem[]; nextCursor: number | null } }> {
  const input = getRunInput.parse(raw);
  const run =
    input.key !== undefined
      ? await runByKey(db, actor, input.key, input.projectId)
      : await readableRun(db, actor, input.id ?? 0);
  // Paged by (outcome order, test case id): the cursor is a test case id, its outcome read back.
  const cursorOutcome = input.cursor
    ? sql`(${OUTCOME_ORDER}, ${runTests.testCaseId}) > ((select array_position(array['failed', 'flaky', 'skipped', 'passed']::test_outcome[], c.outcome) from run_tests c where c.run_id = ${run.id} and c.test_case_id = ${input.cursor}), ${input.cursor})`
    : undefined;
  const [view, items] = await Promise.all([
    viewOf(db, run),
    runTestsQuery(
      db,
      run.id,
      and(
        input.outcome ? eq(runTests.outcome, input.outcome) : undefined,
        // The search's own % and _ (and the escape, backslash) match themselves, not patterns.
        input.search
          ? sql`${testCases.title} ilike ${`%${input.search.replace(/[\\%_]/g, "\\$&")}%`}`
          : undefined,
        cursorOutcome,
      ),
    )
      .orderBy(OUTCOME_ORDER, asc(runTests.testCaseId))
      .limit(input.limit),
  ]);
  const last = items[items.length - 1];
  return {
    ...view,
    testsPage: {
      items,
      nextCursor: items.length === input.limit && last ? last.testCaseId : null,
    },
  };
}

export interface CompareItem {
  testCaseId: number;
  title: string;
  outcome: TestOutcome | null;
  baseOutcome: TestOutcome | null;
  executionId: number | null;
  durationSeconds: number | null;
  baseDurationSeconds: number | null;
  errorMessage: string | null;
  /** A failure of a test in quarantine: in the `quarantined` bucket, not new or still failing. */
  quarantined: boolean;
  /** The median of the test's previous durations on the default branch (≥ 10 of them), if known. */
  baselineMedianSeconds: number | null;
}

export const COMPARE_BUCKETS = [
  "newFailures",
  "stillFailing",
  "fixed",
  "flaky",
  "added",
  "removed",
  "slower",
  "durationRegressions",
  "quarantined",
] as const;
export type CompareBucket = (typeof COMPARE_BUCKETS)[number];

export interface RunComparison {
  run: Run;
  /** Null when there is no base run to compare with (then every test is "added"). */
  base: Run | null;
  counts: Record<CompareBucket, number>;
  buckets: Record<CompareBucket, CompareItem[]>;
}

/** How much slower counts as slower: at least twice the base and at least a second more. */
export const SLOWER_FACTOR = 2;
export const SLOWER_MIN_SECONDS = 1;
/**
 * The median of a test's durations on the default branch before `run` (of its last 20 there),
 * when it has at least REGRESSION_MIN_OUTCOMES of them: a lateral subquery over test_health.
 */
function baselineMedian(run: { id: number; projectId: number }, testCaseId: SQL) {
  return sql`select percentile_cont(0.5) within group (order by u.duration) as median
    from test_health th cross join lateral unnest(th.recent_run_ids, th.recent_durations) as u(run_id, duration)
    where th.project_id = ${run.projectId} and th.test_case_id = ${testCaseId} and u.run_id < ${run.id}
    having count(*) >= ${REGRESSION_MIN_OUTCOMES}`;
}

/**
 * A duration regression (DESIGN.md "Test health"): at least twice the median of the test's
 * previous outcomes on the default branch (at least 10 of its last 20, kept by the health
 * roll-ups) and at least half a second slower.
 */
export const REGRESSION_FACTOR = 2;
export const REGRESSION_MIN_SECONDS = 0.5;
export const REGRESSION_MIN_OUTCOMES = 10;

/** The compared tests of `run` against `base`, at most `limit` a bucket, with bucket sizes. */
function compareRows(db: Database, run: Run, base: Run | null, limit: number) {
  return queryRows<{
    bucket: CompareBucket;
    test_case_id: number;
    title: string;
    outcome: TestOutcome | null;
    base_outcome: TestOutcome | null;
    execution_id: number | null;
    duration_seconds: number | null;
    base_duration_seconds: number | null;
    error_message: string | null;
    quarantined: boolean;
    baseline_median_seconds: number | null;
    bucket_size: number;
  }>(
    db,
    // The median is computed twice: set-based (one sort, not a subquery per test) for the
    // regression check of the tests of at least REGRESSION_MIN_SECONDS (a faster one cannot be
    // that much slower than a median ≥ 0), and for the other rows answered (at most `limit` a
    // bucket) one by one.
    sql`with now_tests as (select * from run_tests where run_id = ${run.id}),
        base_tests as (select * from run_tests where run_id = ${base?.id ?? 0}),
        medians as (
          select th.test_case_id, percentile_cont(0.5) within group (order by u.duration) as median
          from now_tests n
          join test_health th on th.project_id = ${run.projectId} and th.test_case_id = n.test_case_id
          cross join lateral unnest(th.recent_run_ids, th.recent_durations) as u(run_id, duration)
          where n.duration_seconds >= ${REGRESSION_MIN_SECONDS} and u.run_id < ${run.id}
          group by th.test_case_id
          having count(*) >= ${REGRESSION_MIN_OUTCOMES}),
        paired as (
          select coalesce(n.test_case_id, b.test_case_id) as test_case_id, n.outcome, b.outcome as base_outcome,
            n.execution_id, n.duration_seconds, b.duration_seconds as base_duration_seconds,
            coalesce(n.quarantined, false) as quarantined, m.median as regression_median
          from now_tests n full join base_tests b on b.test_case_id = n.test_case_id
          left join medians m on m.test_case_id = n.test_case_id),
        bucketed as (
          -- One array of the row's buckets, unnested (cheaper than a VALUES row per bucket).
          select p.*, x.bucket from paired p cross join lateral unnest(array_remove(array[
            (case when p.outcome = 'failed' and not p.quarantined and p.base_outcome is not null and p.base_outcome <> 'failed' then 'newFailures' end),
            (case when p.outcome = 'failed' and not p.quarantined and p.base_outcome = 'failed' then 'stillFailing' end),
            (case when p.outcome = 'failed' and p.quarantined then 'quarantined' end),
            (case when p.duration_seconds >= ${REGRESSION_FACTOR} * p.regression_median
                   and p.duration_seconds - p.regression_median >= ${REGRESSION_MIN_SECONDS} then 'durationRegressions' end),
            (case when p.outcome in ('passed', 'flaky') and p.base_outcome = 'failed' then 'fixed' end),
            (case when p.outcome = 'flaky' then 'flaky' end),
            (case when p.outcome is not null and p.base_outcome is null then 'added' end),
            (case when p.outcome is null and p.base_outcome is not null then 'removed' end),
            (case when p.duration_seconds >= ${SLOWER_FACTOR} * p.base_duration_seconds
                   and p.duration_seconds - p.base_duration_seconds >= ${SLOWER_MIN_SECONDS} then 'slower' end)
          ], null)) as x(bucket)),
        ranked as (
          select b.*, count(*) over (partition by b.bucket)::int as bucket_size,
            row_number() over (partition by b.bucket order by b.test_case_id) as position
          from bucketed b)
        select r.bucket, r.test_case_id, t.title, r.outcome, r.base_outcome, r.execution_id,
          r.duration_seconds, r.base_duration_seconds, e.error_message, r.quarantined,
          coalesce(r.regression_median, m.median) as baseline_median_seconds, r.bucket_size
        from ranked r
        join test_cases t on t.id = r.test_case_id
        left join test_executions e on e.id = r.execution_id
        left join lateral (${baselineMedian(run, sql`r.test_case_id`)}) m
          on r.regression_median is null and r.duration_seconds is not null
        where r.position <= ${limit}
        order by r.bucket, r.test_case_id`,
  );
}

/**
 * What changed between a run and its base: new failures (failing now, not in the base), still
 * failing, fixed (failing in the base, passing now), flaky (flaky now), added, removed, slower
 * (≥ 2× and ≥ 1 s slower than in the base), duration regressions (against the test's history,
 * not the base) and quarantined failures (in no failing bucket). The base: `baseRunId`, else the
 * latest finished run of the project's default branch that started before this one.
 */
export async function compareRuns(
  db: Database,
  actor: Actor,
  raw: z.input<typeof compareRunsInput>,
): Promise<RunComparison> {
  const input = compareRunsInput.parse(raw);
  const run = await readableRun(db, actor, input.runId);
  let base: Run | null = null;
  if (input.baseRunId !== undefined) {
    base = await readableRun(db, actor, input.baseRunId);
    if (base.projectId !== run.projectId) throw new NotFoundError("Run", input.baseRunId);
  } else {
    const [found] = await db
      .select({ run: runs })
      .from(runs)
      .innerJoin(projects, eq(projects.id, runs.projectId))
      .where(
        and(
          eq(runs.projectId, run.projectId),
          eq(runs.branch, projects.defaultBranch),
          inArray(runs.status, ["passed", "failed"]),
          sql`${runs.startedAt} < ${run.startedAt.toISOString()}::timestamptz`,
          sql`${runs.id} <> ${run.id}`,
        ),
      )
      .orderBy(desc(runs.startedAt), desc(runs.id))
      .limit(1);
    base = found?.run ?? null;
  }
  // The medians sort up to 20 durations per test (200,000 values for a 10,000-test run): in
  // memory, not in temporary files, which the default work_mem (4 MB) would make them.
  const rows = await db.transaction(async (tx) => {
    await tx.execute(sql`set local work_mem = '32MB'`);
    return compareRows(tx, run, base, input.limit);
  });
  const counts = Object.fromEntries(COMPARE_BUCKETS.map((b) => [b, 0])) as Record<
    CompareBucket,
    number
  >;
  const buckets = Object.fromEntries(COMPARE_BUCKETS.map((b) => [b, []])) as unknown as Record<
    CompareBucket,
    CompareItem[]
  >;
  for (const row of rows) {
    counts[row.bucket] = row.bucket_size;
    buckets[row.bucket].push({
      testCaseId: row.test_case_id,
      title: row.title,
      outcome: row.outcome,
      baseOutcome: row.base_outcome,
      executionId: row.execution_id,
      durationSeconds: row.duration_seconds,
      baseDurationSeconds: row.base_duration_seconds,
      errorMessage: row.error_message,
      quarantined: row.quarantined,
      baselineMedianSeconds: row.baseline_median_seconds,
    });
  }
  return { run, base, counts, buckets };
}
