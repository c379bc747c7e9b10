import { eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, targetProject } from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { id, isSupportedDate, LIMITS, pageDirection } from "./limits";
import { runs } from "./schema";

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
    limit: z.number().int().min(1).max(LIMITS.pageSize).default(50),
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
