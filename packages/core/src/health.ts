import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, targetProject } from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { id, isSupportedDate, pageDirection, pagination } from "./limits";
import { type QuarantineEntry, quarantineOf } from "./quarantine";
import { REGRESSION_FACTOR, REGRESSION_MIN_OUTCOMES, REGRESSION_MIN_SECONDS } from "./runs";
import { type ProjectRole, runs } from "./schema";

/** The health window (DESIGN.md "Test health"): the last 14 days by default, at most 90. */
export const DEFAULT_HEALTH_WINDOW_DAYS = 14;
const windowDays = z.number().int().min(1).max(90).default(DEFAULT_HEALTH_WINDOW_DAYS);
/** Flaky by flip rate: at least this rate over at least this many default-branch outcomes. */
export const FLIP_RATE_THRESHOLD = 0.2;
export const FLIP_RATE_MIN_OUTCOMES = 10;

const windowStart = (days: number) => new Date(Date.now() - days * 86_400_000);

/** Keyset cursor of failure groups: the last one's last sighting and fingerprint. */
function decodeGroupCursor(value: string): { at: Date; fingerprint: string } | undefined {
  const [ms, fingerprint, extra] = Buffer.from(value, "base64url").toString("utf8").split(":");
  const at = new Date(Number(ms));
  return extra === undefined &&
    fingerprint &&
    /^[0-9a-f]{16}$/.test(fingerprint) &&
    isSupportedDate(at)
    ? { at, fingerprint }
    : undefined;
}

const encodeGroupCursor = (at: Date, fingerprint: string) =>
  Buffer.from(`${at.getTime()}:${fingerprint}`).toString("base64url");

export const failureGroupsInput = z
  .strictObject({
    projectId: id.optional(),
    /** The groups of this run's failures, `isNew` when the run is where a group was first seen. */
    runId: id.optional(),
    cursor: z
      .string()
      .max(100)
      .refine(
        (value) => decodeGroupCursor(value) !== undefined,
        "is not a cursor returned by health.failureGroups",
      )
      .optional(),
    direction: pageDirection,
    limit: pagination.limit,
  })
  .default({ limit: 50 });

export interface FailureGroupItem {
  fingerprint: string;
  sampleMessage: string;
  firstSeenAt: Date;
  lastSeenAt: Date;
  firstRunId: number | null;
  /** Failed executions in the group (all time, or in the run asked about). */
  occurrences: number;
  /** Test cases that failed this way (all time, or in the run), and up to 10 of their titles. */
  tests: number;
  sampleTests: { testCaseId: number; title: string }[];
  /** First seen in the run asked about. */
  isNew: boolean;
}

interface GroupRow {
  fingerprint: string;
  sample_message: string;
  first_seen_at: Date;
  last_seen_at: Date;
  first_run_id: number | null;
  occurrences: number;
  tests: number;
  sample_tests: { testCaseId: number; title: string }[] | null;
}

/**
 * Failures grouped by fingerprint: a project's groups, most recently seen first, or (with
 * `runId`) the groups of one run's failures, the new ones (first seen in that run) first.
 */
export async function listFailureGroups(
  db: Database,
  actor: Actor,
  raw: z.input<typeof failureGroupsInput>,
): Promise<{ items: FailureGroupItem[]; nextCursor: string | null }> {
  const input = failureGroupsInput.parse(raw);
  let projectId: number;
  if (input.runId !== undefined) {
    const [row] = await db
      .select({ projectId: runs.projectId, access: projectRoleSql(actor, runs.projectId) })
      .from(runs)
      .where(eq(runs.id, input.runId));
    assertRole(row?.access, NEEDS.read, "Run", input.runId);
    if (!row || (input.projectId !== undefined && input.projectId !== row.projectId)) {
      throw new NotFoundError("Run", input.runId);
    }
    projectId = row.projectId;
  } else {
    // Groups are per project: without one, the token's or the personal project (admins too).
    projectId = await targetProject(db, actor, input.projectId, NEEDS.read);
  }
  const after = input.cursor ? decodeGroupCursor(input.cursor) : undefined;
  const rows = await queryRows<GroupRow>(
    db,
    input.runId !== undefined
      ? sql`with failed as (
              select e.failure_fingerprint as fingerprint, count(*)::int as occurrences,
                count(distinct e.test_case_id)::int as tests,
                (array_agg(distinct e.test_case_id))[1:10] as test_case_ids
              from test_executions e
              where e.run_id = ${input.runId} and e.project_id = ${projectId}
                and e.failure_fingerprint is not null
              group by 1)
            select g.fingerprint, g.sample_message, g.first_seen_at, g.last_seen_at, g.first_run_id,
              f.occurrences, f.tests,
              (select json_agg(json_build_object('testCaseId', t.id, 'title', t.title) order by t.id)
                 from test_cases t where t.id = any(f.test_case_ids)) as sample_tests
            from failed f join failure_groups g on g.project_id = ${projectId} and g.fingerprint = f.fingerprint
            where ${after ? sql`g.fingerprint > ${after.fingerprint}` : sql`true`}
            order by g.fingerprint
            limit ${input.limit}`
      : sql`select g.fingerprint, g.sample_message, g.first_seen_at, g.last_seen_at, g.first_run_id,
              g.occurrences, x.tests, x.sample_tests
            from failure_groups g
            cross join lateral (
              select count(distinct e.test_case_id)::int as tests,
                (select json_agg(json_build_object('testCaseId', t.id, 'title', t.title))
                   from (select distinct e2.test_case_id from test_executions e2
                         where e2.project_id = g.project_id and e2.failure_fingerprint = g.fingerprint
                         limit 10) s join test_cases t on t.id = s.test_case_id) as sample_tests
              from test_executions e
              where e.project_id = g.project_id and e.failure_fingerprint = g.fingerprint) x
            where g.project_id = ${projectId} and ${
              after
                ? // The group's exact (microsecond) time from the table; the cursor's copy if it is gone.
                  sql`(g.last_seen_at, g.fingerprint) < (coalesce((select c.last_seen_at from failure_groups c
                      where c.project_id = ${projectId} and c.fingerprint = ${after.fingerprint}),
                      ${after.at.toISOString()}::timestamptz), ${after.fingerprint})`
                : sql`true`
            }
            order by g.last_seen_at desc, g.fingerprint desc
            limit ${input.limit}`,
  );
  const items = rows.map((row) => ({
    fingerprint: row.fingerprint,
    sampleMessage: row.sample_message,
    firstSeenAt: new Date(row.first_seen_at),
    lastSeenAt: new Date(row.last_seen_at),
    firstRunId: row.first_run_id,
    occurrences: row.occurrences,
    tests: row.tests,
    sampleTests: row.sample_tests ?? [],
    isNew: input.runId !== undefined && row.first_run_id === input.runId,
  }));
  const last = items[items.length - 1];
  const nextCursor =
    items.length === input.limit && last
      ? encodeGroupCursor(
          input.runId !== undefined ? new Date(0) : last.lastSeenAt,
          last.fingerprint,
        )
      : null;
  return { items, nextCursor };
}

export const testHealthInput = z.strictObject({
  testCaseId: id,
  /** How many of the latest finished executions to read (default 50). */
  limit: z.number().int().min(1).max(200).default(50),
  /** Days of the window the roll-up figures cover (default 14). */
  window: windowDays,
});

export interface TestHealth {
  testCaseId: number;
  title: string;
  /** The latest finished executions, newest first: a history strip. */
  outcomes: {
    executionId: number;
    runId: number | null;
    attempt: number;
    result: "pass" | "fail" | "error" | "skip" | null;
    durationSeconds: number | null;
    createdAt: Date;
    failureFingerprint: string | null;
  }[];
  /** Percentage of decided outcomes (pass, fail, error) among them that passed; null if none. */
  passRate: number | null;
  medianDurationSeconds: number | null;
  p95DurationSeconds: number | null;
  /** Runs where the test failed and then passed on a retry (its flaky evidence), newest first. */
  flakyRuns: { runId: number; key: string; branch: string | null; startedAt: Date }[];
  /** The failure groups it failed in, most recent first. */
  failureGroups: {
    fingerprint: string;
    sampleMessage: string;
    occurrences: number;
    lastSeenAt: Date;
  }[];
  /** From the health roll-ups of finished runs, over the window (`window` days). */
  window: {
    days: number;
    outcomes: number;
    failures: number;
    passRate: number | null;
    flakyRuns: number;
    /** Commits with both a passing and a failing final outcome, newest first (at most 20). */
    flakyCommits: { commitSha: string; passes: number; fails: number; runIds: number[] }[];
    branchOutcomes: number;
    flips: number;
    flipRate: number | null;
  };
  /** Flaky by DESIGN.md's definition over the window. */
  isFlaky: boolean;
  firstSeenAt: Date | null;
  lastFailureAt: Date | null;
  /** The latest default-branch duration against the median of the ones before it (≥ 10). */
  durationRegression: {
    runId: number;
    durationSeconds: number;
    baselineMedianSeconds: number;
    regressed: boolean;
  } | null;
  quarantine: QuarantineEntry | null;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)] ?? null;
}

/**
 * One test's recent health: its latest finished outcomes (a history strip), pass rate, median
 * and p95 duration, the runs where it was flaky and the failure groups it failed in. Reads only
 * this test's rows, through its own indexes.
 */
export async function testHealth(
  db: Database,
  actor: Actor,
  raw: z.input<typeof testHealthInput>,
): Promise<TestHealth> {
  const input = testHealthInput.parse(raw);
  const [testCase] = await queryRows<{
    id: number;
    title: string;
    project_id: number;
    role: ProjectRole | null;
  }>(
    db,
    sql`select t.id, t.title, t.project_id, ${projectRoleSql(actor, sql`t.project_id`)} as role
        from test_cases t where t.id = ${input.testCaseId}`,
  );
  assertRole(testCase?.role, NEEDS.read, "Test case", input.testCaseId);
  if (!testCase) throw new NotFoundError("Test case", input.testCaseId);
  const since = windowStart(input.window);
  const [outcomes, flakyRuns, groups, rolled, commits, quarantine] = await Promise.all([
    queryRows<{
      id: number;
      run_id: number | null;
      attempt: number;
      result: TestHealth["outcomes"][number]["result"];
      duration_seconds: number | null;
      created_at: Date;
      failure_fingerprint: string | null;
    }>(
      db,
      sql`select id, run_id, attempt, result, duration_seconds, created_at, failure_fingerprint
          from test_executions
          where test_case_id = ${testCase.id} and status in ('completed', 'failed', 'cancelled')
          order by created_at desc, id desc limit ${input.limit}`,
    ),
    queryRows<{ run_id: number; key: string; branch: string | null; started_at: Date }>(
      db,
      sql`select r.id as run_id, r.key, r.branch, r.started_at from run_tests rt
          join runs r on r.id = rt.run_id
          where rt.test_case_id = ${testCase.id} and rt.outcome = 'flaky'
          order by r.started_at desc limit 20`,
    ),
    queryRows<{
      fingerprint: string;
      sample_message: string;
      occurrences: number;
      last_seen_at: Date;
    }>(
      db,
      sql`select g.fingerprint, g.sample_message, count(*)::int as occurrences, max(e.created_at) as last_seen_at
          from test_executions e
          join failure_groups g on g.project_id = e.project_id and g.fingerprint = e.failure_fingerprint
          where e.test_case_id = ${testCase.id} and e.failure_fingerprint is not null
          group by g.fingerprint, g.sample_message order by max(e.created_at) desc limit 20`,
    ),
    queryRows<{
      outcomes: number | null;
      passes: number | null;
      failures: number | null;
      flaky_runs: number | null;
      branch_outcomes: number | null;
      flips: number | null;
      first_seen_at: Date | null;
      last_failure_at: Date | null;
      recent_run_ids: number[] | null;
      recent_durations: number[] | null;
    }>(
      db,
      sql`with days as (
            select * from test_health_days d
            where d.project_id = ${testCase.project_id} and d.test_case_id = ${testCase.id}
              and d.day >= (${since.toISOString()}::timestamptz at time zone 'UTC')::date),
          flips as (
            select sum(x.branch_flips) + count(*) filter (where x.prev is not null and x.prev <> x.branch_first) as flips
            from (select branch_flips, branch_first, lag(branch_last) over (order by day) as prev
                  from days where branch_outcomes > 0) x)
          select (select sum(passed + failed + flaky) from days)::int as outcomes,
            (select sum(passed + flaky) from days)::int as passes,
            (select sum(failed) from days)::int as failures,
            (select sum(flaky) from days)::int as flaky_runs,
            (select sum(branch_outcomes) from days)::int as branch_outcomes,
            (select flips from flips)::int as flips,
            th.first_seen_at, th.last_failure_at, th.recent_run_ids, th.recent_durations
          from (select 1) one
          left join test_health th on th.project_id = ${testCase.project_id} and th.test_case_id = ${testCase.id}`,
    ),
    queryRows<{ commit_sha: string; passes: number; fails: number; run_ids: number[] }>(
      db,
      sql`select o.commit_sha, o.passes, o.fails,
            (select array_agg(r.id order by r.started_at desc) from (
               select r.id, r.started_at from runs r join run_tests rt on rt.run_id = r.id and rt.test_case_id = o.test_case_id
               where r.project_id = o.project_id and r.commit_sha = o.commit_sha and r.status <> 'running'
               order by r.started_at desc limit 10) r) as run_ids
          from test_commit_outcomes o
          where o.project_id = ${testCase.project_id} and o.test_case_id = ${testCase.id}
            and o.passes > 0 and o.fails > 0
            and least(o.last_pass_at, o.last_fail_at) >= ${since.toISOString()}::timestamptz
          order by greatest(o.last_pass_at, o.last_fail_at) desc limit 20`,
    ),
    quarantineOf(db, testCase.project_id, testCase.id),
  ]);
  const roll = rolled[0];
  const windowOutcomes = roll?.outcomes ?? 0;
  const branchOutcomes = roll?.branch_outcomes ?? 0;
  const flips = roll?.flips ?? 0;
  const flipRate = branchOutcomes > 1 ? flips / (branchOutcomes - 1) : null;
  const flakyRunCount = roll?.flaky_runs ?? 0;
  const isFlaky =
    flakyRunCount > 0 ||
    commits.length > 0 ||
    (branchOutcomes >= FLIP_RATE_MIN_OUTCOMES && (flipRate ?? 0) >= FLIP_RATE_THRESHOLD);
  const decided = outcomes.filter(
    (o) => o.result === "pass" || o.result === "fail" || o.result === "error",
  );
  const passed = decided.filter((o) => o.result === "pass").length;
  const durations = outcomes
    .map((o) => o.duration_seconds)
    .filter((d): d is number => d !== null)
    .sort((a, b) => a - b);
  return {
    testCaseId: testCase.id,
    title: testCase.title,
    outcomes: outcomes.map((o) => ({
      executionId: o.id,
      runId: o.run_id,
      attempt: o.attempt,
      result: o.result,
      durationSeconds: o.duration_seconds,
      createdAt: new Date(o.created_at),
      failureFingerprint: o.failure_fingerprint,
    })),
    passRate: decided.length === 0 ? null : Math.round((passed / decided.length) * 10_000) / 100,
    medianDurationSeconds: percentile(durations, 50),
    p95DurationSeconds: percentile(durations, 95),
    flakyRuns: flakyRuns.map((r) => ({
      runId: r.run_id,
      key: r.key,
      branch: r.branch,
      startedAt: new Date(r.started_at),
    })),
    failureGroups: groups.map((g) => ({
      fingerprint: g.fingerprint,
      sampleMessage: g.sample_message,
      occurrences: g.occurrences,
      lastSeenAt: new Date(g.last_seen_at),
    })),
    window: {
      days: input.window,
      outcomes: windowOutcomes,
      failures: roll?.failures ?? 0,
      passRate:
        windowOutcomes === 0
          ? null
          : Math.round(((roll?.passes ?? 0) / windowOutcomes) * 10_000) / 100,
      flakyRuns: flakyRunCount,
      flakyCommits: commits.map((c) => ({
        commitSha: c.commit_sha,
        passes: c.passes,
        fails: c.fails,
        runIds: c.run_ids ?? [],
      })),
      branchOutcomes,
      flips,
      flipRate,
    },
    isFlaky,
    firstSeenAt: roll?.first_seen_at ? new Date(roll.first_seen_at) : null,
    lastFailureAt: roll?.last_failure_at ? new Date(roll.last_failure_at) : null,
    durationRegression: durationRegressionOf(roll?.recent_run_ids, roll?.recent_durations),
    quarantine,
  };
}

/** The latest of a test's default-branch durations against the median of those before it. */
function durationRegressionOf(
  runIds: number[] | null | undefined,
  durations: number[] | null | undefined,
): TestHealth["durationRegression"] {
  if (!runIds || !durations || durations.length < REGRESSION_MIN_OUTCOMES + 1) return null;
  const latest = durations[durations.length - 1];
  const runId = runIds[runIds.length - 1];
  if (latest === undefined || runId === undefined) return null;
  const before = durations.slice(0, -1).sort((a, b) => a - b);
  const middle = before.length / 2;
  const median = Number.isInteger(middle)
    ? ((before[middle - 1] ?? 0) + (before[middle] ?? 0)) / 2
    : (before[Math.floor(middle)] ?? 0);
  return {
    runId,
    durationSeconds: latest,
    baselineMedianSeconds: median,
    regressed: latest >= REGRESSION_FACTOR * median && latest - median >= REGRESSION_MIN_SECONDS,
  };
}

export const flakyTestsInput = z
  .strictObject({
    projectId: id.optional(),
    /** Days back from now (default 14). */
    window: windowDays,
    cursor: z
      .string()
      .max(100)
      .refine(
        (value) => decodeFlakyCursor(value) !== undefined,
        "is not a cursor returned by health.flaky",
      )
      .optional(),
    direction: pageDirection,
    limit: pagination.limit,
  })
  .default({ window: DEFAULT_HEALTH_WINDOW_DAYS, limit: 50 });

/** Where a page of flaky tests ended: its last test's evidence, flip rate (×10⁶) and id. */
interface FlakyPosition {
  evidence: number;
  flipMicros: number;
  testCaseId: number;
}

function decodeFlakyCursor(value: string): FlakyPosition | undefined {
  const parts = Buffer.from(value, "base64url").toString("utf8").split(":");
  if (parts.length !== 3 || !parts.every((p) => /^\d{1,10}$/.test(p))) return undefined;
  const [evidence, flipMicros, testCaseId] = parts.map(Number) as [number, number, number];
  return testCaseId >= 1 && testCaseId <= 2_147_483_647 && flipMicros <= 1_000_000
    ? { evidence, flipMicros, testCaseId }
    : undefined;
}

const encodeFlakyCursor = (p: FlakyPosition) =>
  Buffer.from(`${p.evidence}:${p.flipMicros}:${p.testCaseId}`).toString("base64url");

export interface FlakyTestItem {
  testCaseId: number;
  title: string;
  key: string | null;
  /** Runs in the window where it failed, then passed on a retry. */
  flakyRuns: number;
  /** Commits in the window with both a passing and a failing final outcome. */
  flakyCommits: number;
  /** Final outcomes in the window (any branch), and how many failed. */
  outcomes: number;
  failures: number;
  /** Default-branch outcomes in the window, their pass↔fail flips and flips ÷ (outcomes − 1). */
  branchOutcomes: number;
  flips: number;
  flipRate: number | null;
  lastFailureAt: Date | null;
  /** The evidence itself: up to 3 of its flaky runs and flaky commits, newest first. */
  evidence: {
    runs: { runId: number; key: string; branch: string | null; startedAt: Date }[];
    commits: { commitSha: string; passes: number; fails: number }[];
  };
  quarantined: boolean;
}

/**
 * Flaky tests of a project over the window, most evidence first (flaky runs + flaky commits),
 * then highest flip rate: DESIGN.md's definition, read from the health roll-ups
 * (testtrack_flaky_tests, migration 0020), not from history.
 */
export async function listFlakyTests(
  db: Database,
  actor: Actor,
  raw: z.input<typeof flakyTestsInput>,
): Promise<{ items: FlakyTestItem[]; nextCursor: string | null }> {
  const input = flakyTestsInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.read);
  const since = windowStart(input.window).toISOString();
  const after = input.cursor ? decodeFlakyCursor(input.cursor) : undefined;
  const rows = await queryRows<{
    test_case_id: number;
    title: string;
    key: string | null;
    flaky_runs: number;
    flaky_commits: number;
    outcomes: number;
    failures: number;
    branch_outcomes: number;
    flips: number;
    flip_rate: number | null;
    last_failure_at: Date | null;
    evidence: number;
    flip_micros: number;
    evidence_runs:
      | { runId: number; key: string; branch: string | null; startedAt: string }[]
      | null;
    evidence_commits: { commitSha: string; passes: number; fails: number }[] | null;
    quarantined: boolean;
  }>(
    db,
    sql`with flaky as (
          select f.*, f.flaky_runs + f.flaky_commits as evidence,
            round(coalesce(f.flip_rate, 0) * 1000000)::int as flip_micros
          from testtrack_flaky_tests(${projectId}::int, ${since}::timestamptz) f),
        page as (
          select * from flaky
          where ${
            after
              ? sql`(evidence < ${after.evidence}
                  or (evidence = ${after.evidence} and flip_micros < ${after.flipMicros})
                  or (evidence = ${after.evidence} and flip_micros = ${after.flipMicros}
                      and test_case_id > ${after.testCaseId}))`
              : sql`true`
          }
          order by evidence desc, flip_micros desc, test_case_id
          limit ${input.limit})
        select p.*, t.title, t.key,
          (select json_agg(json_build_object('runId', x.id, 'key', x.key, 'branch', x.branch,
             'startedAt', x.started_at) order by x.started_at desc)
           -- Newest first by run id (they grow with time): three index entries, not every flaky run.
           from (select r.id, r.key, r.branch, r.started_at from run_tests rt join runs r on r.id = rt.run_id
                 where rt.test_case_id = p.test_case_id and rt.outcome = 'flaky'
                   and r.started_at >= ${since}::timestamptz
                 order by rt.run_id desc limit 3) x) as evidence_runs,
          (select json_agg(json_build_object('commitSha', o.commit_sha, 'passes', o.passes,
             'fails', o.fails) order by greatest(o.last_pass_at, o.last_fail_at) desc)
           from (select * from test_commit_outcomes o
                 where o.project_id = ${projectId} and o.test_case_id = p.test_case_id
                   and o.passes > 0 and o.fails > 0
                   and least(o.last_pass_at, o.last_fail_at) >= ${since}::timestamptz
                 order by greatest(o.last_pass_at, o.last_fail_at) desc limit 3) o) as evidence_commits,
          exists (select 1 from quarantines q where q.project_id = ${projectId}
            and q.test_case_id = p.test_case_id and (q.expires_at is null or q.expires_at > now())) as quarantined
        from page p join test_cases t on t.id = p.test_case_id
        order by p.evidence desc, p.flip_micros desc, p.test_case_id`,
  );
  const items: FlakyTestItem[] = rows.map((row) => ({
    testCaseId: row.test_case_id,
    title: row.title,
    key: row.key,
    flakyRuns: row.flaky_runs,
    flakyCommits: row.flaky_commits,
    outcomes: row.outcomes,
    failures: row.failures,
    branchOutcomes: row.branch_outcomes,
    flips: row.flips,
    flipRate: row.flip_rate,
    lastFailureAt: row.last_failure_at ? new Date(row.last_failure_at) : null,
    evidence: {
      runs: (row.evidence_runs ?? []).map((r) => ({ ...r, startedAt: new Date(r.startedAt) })),
      commits: row.evidence_commits ?? [],
    },
    quarantined: row.quarantined,
  }));
  const last = rows[rows.length - 1];
  return {
    items,
    nextCursor:
      rows.length === input.limit && last
        ? encodeFlakyCursor({
            evidence: last.evidence,
            flipMicros: last.flip_micros,
            testCaseId: last.test_case_id,
          })
        : null,
  };
}

export const rebuildHealthInput = z.strictObject({ projectId: id.optional() });

/**
 * Recomputes a project's health roll-ups from its finished runs (maintainer): after a change of
 * definitions, or to fold in executions recorded after their run finished.
 */
export async function rebuildHealth(
  db: Database,
  actor: Actor,
  raw: z.input<typeof rebuildHealthInput>,
): Promise<{ projectId: number; runs: number; seconds: number }> {
  const input = rebuildHealthInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.manage);
  const started = performance.now();
  const [row] = await queryRows<{ runs: number }>(
    db,
    sql`select testtrack_rebuild_health(${projectId}::int) as runs`,
  );
  return {
    projectId,
    runs: row?.runs ?? 0,
    seconds: Math.round(performance.now() - started) / 1000,
  };
}
