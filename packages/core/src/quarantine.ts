import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, targetProject } from "./actor";
import { type Database, queryRows } from "./db";
import { InvalidInputError, NotFoundError } from "./errors";
import {
  decodeKeysetCursor,
  encodeKeysetCursor,
  id,
  isoDateTime,
  keysetCursor,
  pageDirection,
  pagination,
  text,
} from "./limits";
import type { ProjectRole } from "./schema";

export const addQuarantineInput = z.strictObject({
  testCaseId: id,
  /** Why, for the team: an issue link, "flaky since the CDN change", … */
  reason: text().trim().min(1, "must not be empty").max(500),
  /** When the quarantine stops applying by itself (ISO 8601, in the future); none: until removed. */
  expiresAt: isoDateTime.optional(),
});

export const removeQuarantineInput = z.strictObject({ testCaseId: id });

export const listQuarantineInput = z
  .strictObject({
    projectId: id.optional(),
    /** Expired entries too (they no longer apply); default only those that apply now. */
    includeExpired: z.boolean().default(false),
    cursor: keysetCursor("quarantine.list").optional(),
    direction: pageDirection,
    limit: pagination.limit,
  })
  .default({ includeExpired: false, limit: 50 });

export interface QuarantineEntry {
  projectId: number;
  testCaseId: number;
  title: string;
  key: string | null;
  reason: string;
  createdBy: { id: number; email: string } | null;
  createdAt: Date;
  expiresAt: Date | null;
  /** It applies now: no expiry, or an expiry still ahead. */
  active: boolean;
}

interface EntryRow {
  project_id: number;
  test_case_id: number;
  title: string;
  key: string | null;
  reason: string;
  created_by: number | null;
  created_by_email: string | null;
  created_at: Date;
  expires_at: Date | null;
  active: boolean;
}

const entryColumns = sql`q.project_id, q.test_case_id, t.title, t.key, q.reason, q.created_by,
  u.email as created_by_email, q.created_at, q.expires_at,
  (q.expires_at is null or q.expires_at > now()) as active`;

function entryOf(row: EntryRow): QuarantineEntry {
  return {
    projectId: row.project_id,
    testCaseId: row.test_case_id,
    title: row.title,
    key: row.key,
    reason: row.reason,
    createdBy:
      row.created_by !== null && row.created_by_email !== null
        ? { id: row.created_by, email: row.created_by_email }
        : null,
    createdAt: new Date(row.created_at),
    expiresAt: row.expires_at === null ? null : new Date(row.expires_at),
    active: row.active,
  };
}

/** The test case (with its project) if the actor holds `need` there. */
async function testCaseFor(db: Database, actor: Actor, testCaseId: number, need: ProjectRole) {
  const [row] = await queryRows<{ id: number; project_id: number; role: ProjectRole | null }>(
    db,
    sql`select t.id, t.project_id, ${projectRoleSql(actor, sql`t.project_id`)} as role
        from test_cases t where t.id = ${testCaseId}`,
  );
  assertRole(row?.role, need, "Test case", testCaseId);
  if (!row) throw new NotFoundError("Test case", testCaseId);
  return row;
}

async function readEntry(db: Database, projectId: number, testCaseId: number) {
  const [row] = await queryRows<EntryRow>(
    db,
    sql`select ${entryColumns} from quarantines q
        join test_cases t on t.id = q.test_case_id
        left join users u on u.id = q.created_by
        where q.project_id = ${projectId} and q.test_case_id = ${testCaseId}`,
  );
  if (!row) throw new NotFoundError("Quarantine of test case", testCaseId);
  return entryOf(row);
}

/**
 * Puts a test in quarantine (maintainer): from now on its failures in runs count as
 * quarantined, not failed, until `expiresAt` or removal. Quarantining it again replaces the
 * reason and expiry.
 */
export async function addQuarantine(
  db: Database,
  actor: Actor,
  raw: z.input<typeof addQuarantineInput>,
): Promise<QuarantineEntry> {
  const input = addQuarantineInput.parse(raw);
  if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
    throw new InvalidInputError("expiresAt must be in the future");
  }
  const testCase = await testCaseFor(db, actor, input.testCaseId, NEEDS.manage);
  await db.execute(
    sql`insert into quarantines (project_id, test_case_id, reason, created_by, expires_at)
        values (${testCase.project_id}, ${testCase.id}, ${input.reason}, ${actor.id},
          ${input.expiresAt?.toISOString() ?? null}::timestamptz)
        on conflict (project_id, test_case_id) do update set reason = excluded.reason,
          created_by = excluded.created_by, created_at = now(), expires_at = excluded.expires_at`,
  );
  return readEntry(db, testCase.project_id, testCase.id);
}

/** Takes a test out of quarantine (maintainer). `removed` is false when it was not in it. */
export async function removeQuarantine(
  db: Database,
  actor: Actor,
  raw: z.input<typeof removeQuarantineInput>,
): Promise<{ testCaseId: number; removed: boolean }> {
  const input = removeQuarantineInput.parse(raw);
  const testCase = await testCaseFor(db, actor, input.testCaseId, NEEDS.manage);
  const removed = await queryRows<{ test_case_id: number }>(
    db,
    sql`delete from quarantines where project_id = ${testCase.project_id}
        and test_case_id = ${testCase.id} returning test_case_id`,
  );
  return { testCaseId: testCase.id, removed: removed.length > 0 };
}

/**
 * A project's quarantine (member to read: reporters fetch it at run start), newest first, paged
 * by cursor; only the entries that apply now unless `includeExpired`.
 */
export async function listQuarantine(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listQuarantineInput>,
): Promise<{ items: QuarantineEntry[]; nextCursor: string | null }> {
  const input = listQuarantineInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.write);
  const after = input.cursor ? decodeKeysetCursor(input.cursor) : undefined;
  const rows = await queryRows<EntryRow>(
    db,
    sql`select ${entryColumns} from quarantines q
        join test_cases t on t.id = q.test_case_id
        left join users u on u.id = q.created_by
        where q.project_id = ${projectId}
          and ${input.includeExpired ? sql`true` : sql`(q.expires_at is null or q.expires_at > now())`}
          and ${
            after
              ? sql`(q.created_at, q.test_case_id) < (coalesce((select c.created_at from quarantines c
                  where c.project_id = ${projectId} and c.test_case_id = ${after.id}),
                  ${after.at.toISOString()}::timestamptz), ${after.id})`
              : sql`true`
          }
        order by q.created_at desc, q.test_case_id desc
        limit ${input.limit}`,
  );
  const items = rows.map(entryOf);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor:
      items.length === input.limit && last
        ? encodeKeysetCursor({ id: last.testCaseId, at: last.createdAt })
        : null,
  };
}

/** The quarantine entry of one test case, if any (for anyone who may read the test case). */
export async function quarantineOf(
  db: Database,
  projectId: number,
  testCaseId: number,
): Promise<QuarantineEntry | null> {
  try {
    return await readEntry(db, projectId, testCaseId);
  } catch (error) {
    if (error instanceof NotFoundError) return null;
    throw error;
  }
}
