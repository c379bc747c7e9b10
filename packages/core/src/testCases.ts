import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, ownedBy } from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { id, LIMITS, type Page, pagination, text } from "./limits";
import { testCases } from "./schema";

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

export const createTestCaseInput = z.strictObject({
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
  key: testCaseKey,
  title: testCaseFields.title,
  tags: testCaseFields.tags.optional(),
});

export const ensureTestCasesInput = z.strictObject({
  testCases: z
    .array(ensureTestCaseInput)
    .min(1, "send at least one test case")
    .max(LIMITS.testCasesPerEnsure, `send at most ${LIMITS.testCasesPerEnsure} test cases per call`)
    .refine(
      (items) => new Set(items.map((item) => item.key)).size === items.length,
      "each key may appear only once per call",
    ),
});

export const listTestCasesInput = z
  .strictObject({
    search: text().trim().min(1).max(LIMITS.title).optional(),
    tag: text().trim().min(1).max(LIMITS.tag).optional(),
    ...pagination,
  })
  .default({ skip: 0, limit: 50 });

export type TestCase = typeof testCases.$inferSelect;

function visibleTestCase(actor: Actor, testCaseId: number) {
  return and(eq(testCases.id, testCaseId), ownedBy(actor, testCases.userId));
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
  const rows = input.testCases.map((item) => ({
    key: item.key,
    title: item.title,
    tags: item.tags ?? [],
  }));
  // Keys in sorted order, so concurrent calls take their row locks in one order (no deadlock).
  const sorted = [...rows].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const stored = await queryRows<{ id: number; key: string; title: string; created: boolean }>(
    db,
    sql`insert into test_cases (user_id, key, title, tags)
        select ${actor.id}::int, r.key, r.title, array(select json_array_elements_text(r.tags))
        from json_to_recordset(${JSON.stringify(sorted)}::json) as r(key text, title text, tags json)
        on conflict (user_id, key) do update set
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
  const [ensured] = await ensureTestCases(db, actor, { testCases: [raw] });
  if (!ensured) throw new Error("ensureTestCases answered nothing");
  return ensured;
}

export async function createTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof createTestCaseInput>,
): Promise<TestCase> {
  const input = createTestCaseInput.parse(raw);
  const [row] = await db
    .insert(testCases)
    .values({ ...input, description: input.description ?? null, userId: actor.id })
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
  const [row] = await db.select().from(testCases).where(visibleTestCase(actor, input.id));
  if (!row) throw new NotFoundError("Test case", input.id);
  return row;
}

export async function listTestCases(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listTestCasesInput>,
): Promise<Page<TestCase>> {
  const input = listTestCasesInput.parse(raw);
  const where = and(
    ownedBy(actor, testCases.userId),
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
  const [row] = await db
    .update(testCases)
    .set({ ...changes, updatedAt: new Date() })
    .where(visibleTestCase(actor, testCaseId))
    .returning();
  if (!row) throw new NotFoundError("Test case", testCaseId);
  return row;
}

/** Deletes a test case and, by cascade, its executions and their steps. */
export async function deleteTestCase(
  db: Database,
  actor: Actor,
  raw: z.input<typeof testCaseIdInput>,
): Promise<{ id: number }> {
  const input = testCaseIdInput.parse(raw);
  const [row] = await db
    .delete(testCases)
    .where(visibleTestCase(actor, input.id))
    .returning({ id: testCases.id });
  if (!row) throw new NotFoundError("Test case", input.id);
  return row;
}
