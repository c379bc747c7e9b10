import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import {
  type Actor,
  assertRole,
  NEEDS,
  projectRoleSql,
  readableBy,
  readScope,
  targetProject,
} from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { id, LIMITS, type Page, pagination, text } from "./limits";
import { type ProjectRole, testCases } from "./schema";

const testCaseStep = z.strictObject({
  description: text().trim().min(1).max(LIMITS.text),
  expectedResult: text()
    .max(LIMITS.text)
    .nullish()
    .transform((v) => v ?? null),
});

const testCaseFields = {
  title: text().trim().min(1, "must not be empty").max(LIMITS.title),
  description: text().max(LIMITS.text).nullish(),
  steps: z.array(testCaseStep).max(LIMITS.testCaseSteps),
  tags: z.array(text().trim().min(1).max(LIMITS.tag)).max(LIMITS.tags),
};

/** Every wave-1 input may name a project; without one, the token's or the personal project. */
const projectId = id.optional();

export const createTestCaseInput = z.strictObject({
  projectId,
  ...testCaseFields,
  steps: testCaseFields.steps.default([]),
  tags: testCaseFields.tags.default([]),
});

export const updateTestCaseInput = z.strictObject({
  id,
  title: testCaseFields.title.optional(),
  description: testCaseFields.description,
  steps: testCaseFields.steps.optional(),
  tags: testCaseFields.tags.optional(),
});

export const testCaseIdInput = z.strictObject({ id });

/** A runner's stable name for a test: file path + title path, or JUnit's classname + name. */
const testCaseKey = text().trim().min(1, "must not be empty").max(LIMITS.testCaseKey);

export const ensureTestCaseInput = z.strictObject({
  projectId,
  key: testCaseKey,
  title: testCaseFields.title,
  tags: testCaseFields.tags.optional(),
});

const ensureItem = ensureTestCaseInput.omit({ projectId: true });

export const ensureTestCasesInput = z.strictObject({
  projectId,
  testCases: z
    .array(ensureItem)
    .min(1, "send at least one test case")
    .max(LIMITS.testCasesPerEnsure, `send at most ${LIMITS.testCasesPerEnsure} test cases per call`)
    .refine(
      (items) => new Set(items.map((item) => item.key)).size === items.length,
      "each key may appear only once per call",
    ),
});

export const listTestCasesInput = z
  .strictObject({
    projectId,
    search: text().trim().min(1).max(LIMITS.title).optional(),
    tag: text().trim().min(1).max(LIMITS.tag).optional(),
    ...pagination,
  })
  .default({ skip: 0, limit: 50 });

export type TestCase = typeof testCases.$inferSelect;

/**
 * The test case if the actor holds `need` in its project: NOT_FOUND (as for a missing one) when
 * the project is not theirs, FORBIDDEN when the role is too weak.
 */
export async function accessibleTestCase(
  db: Database,
  actor: Actor,
  testCaseId: number,
  need: ProjectRole,
): Promise<TestCase> {
  const [row] = await db
    .select({ testCase: testCases, access: projectRoleSql(actor, testCases.projectId) })
    .from(testCases)
    .where(eq(testCases.id, testCaseId));
  assertRole(row?.access, need, "Test case", testCaseId);
  if (!row) throw new NotFoundError("Test case", testCaseId);
  return row.testCase;
}

export interface EnsuredTestCase {
  id: number;
  key: string;
  title: string;
  /** True when this call created it. */
  created: boolean;
}

/**
 * The actor's test cases by key, created when missing, in one statement (`INSERT ... ON
 * CONFLICT`), so parallel CI jobs asking for the same keys never create a test twice. A title
 * that changed under the same key is updated (history stays on one test case); tags are set
 * only on creation. Answers in input order.
 */
export async function ensureTestCases(
  db: Database,
  actor: Actor,
  raw: z.input<typeof ensureTestCasesInput>,
): Promise<EnsuredTestCase[]> {
  const input = ensureTestCasesInput.parse(raw);
  const project = await targetProject(db, actor, input.projectId, NEEDS.write);
  const rows = input.testCases.map((item) => ({
    key: item.key,
    title: item.title,
    tags: item.tags ?? [],
  }));
  // Keys in sorted order, so concurrent calls take their row locks in one order (no deadlock).
  const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const stored = await queryRows<{ id: number; key: string; title: string; created: boolean }>(
    db,
    sql`insert into test_cases (project_id, user_id, key, title, tags)
        select ${project}::int, ${actor.id}::int, r.key, r.title, array(select json_array_elements_text(r.tags))
        from json_to_recordset(${JSON.stringify(sorted)}::json) as r(key text, title text, tags json)
        on conflict (project_id, key) do update set
          title = excluded.title,
          updated_at = case when test_cases.title = excluded.title then test_cases.updated_at else now() end
        returning id, key, title, (xmax = 0) as created`,
  );
  const byKey = new Map(stored.map((row) => [row.key, row]));
  return rows.map((row) => {
    const found = byKey.get(row.key);
    if (!found) throw new Error(`test case ${row.key} was not stored`);
    return { id: found.id, key: found.key, title: found.title, created: found.created };
  });
}

/** One test case by its key (`ensureTestCases` for one). */
export async function ensureTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof ensureTestCaseInput>,
): Promise<EnsuredTestCase> {
  const { projectId: project, ...item } = raw;
  const [ensured] = await ensureTestCases(db, actor, { projectId: project, testCases: [item] });
  if (!ensured) throw new Error("ensureTestCases answered nothing");
  return ensured;
}

export async function createTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof createTestCaseInput>,
): Promise<TestCase> {
  const { projectId: asked, ...input } = createTestCaseInput.parse(raw);
  const project = await targetProject(db, actor, asked, NEEDS.write);
  const [row] = await db
    .insert(testCases)
    .values({
      ...input,
      description: input.description ?? null,
      projectId: project,
      userId: actor.id,
    })
    .returning();
  if (!row) throw new Error("test case insert returned no row");
  return row;
}

/** The test case if the actor may see it; NOT_FOUND otherwise, exactly as for a missing one. */
export async function getTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof testCaseIdInput>,
): Promise<TestCase> {
  const input = testCaseIdInput.parse(raw);
  const [row] = await db
    .select()
    .from(testCases)
    .where(and(eq(testCases.id, input.id), readableBy(actor, testCases.projectId)));
  if (!row) throw new NotFoundError("Test case", input.id);
  return row;
}

export async function listTestCases(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listTestCasesInput>,
): Promise<Page<TestCase>> {
  const input = listTestCasesInput.parse(raw);
  const project = await readScope(db, actor, input.projectId);
  const where = and(
    project === null ? undefined : eq(testCases.projectId, project),
    input.search
      ? sql`${testCases.title} ilike ${`%${input.search.replace(/[\\%_]/g, "\\$&")}%`}`
      : undefined,
    input.tag ? sql`${input.tag} = any(${testCases.tags})` : undefined,
  );
  const [items, [count]] = await Promise.all([
    db
      .select()
      .from(testCases)
      .where(where)
      .orderBy(desc(testCases.createdAt), desc(testCases.id))
      .offset(input.skip)
      .limit(input.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(testCases).where(where),
  ]);
  return { items, total: count?.n ?? 0, skip: input.skip, limit: input.limit };
}

export async function updateTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateTestCaseInput>,
): Promise<TestCase> {
  const { id: testCaseId, ...changes } = updateTestCaseInput.parse(raw);
  await accessibleTestCase(db, actor, testCaseId, NEEDS.write);
  const [row] = await db
    .update(testCases)
    .set({ ...changes, updatedAt: new Date() })
    .where(eq(testCases.id, testCaseId))
    .returning();
  if (!row) throw new NotFoundError("Test case", testCaseId);
  return row;
}

/** Deletes a test case and, by cascade, its executions and their steps (maintainers). */
export async function deleteTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof testCaseIdInput>,
): Promise<{ id: number }> {
  const input = testCaseIdInput.parse(raw);
  await accessibleTestCase(db, actor, input.id, NEEDS.manage);
  const [row] = await db
    .delete(testCases)
    .where(eq(testCases.id, input.id))
    .returning({ id: testCases.id });
  if (!row) throw new NotFoundError("Test case", input.id);
  return row;
}
