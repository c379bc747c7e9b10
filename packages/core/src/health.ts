import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, targetProject } from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { id, isSupportedDate, pageDirection, pagination } from "./limits";
import { type ProjectRole, runs } from "./schema";

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
  const [outcomes, flakyRuns, groups] = await Promise.all([
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
  ]);
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
  };
}
