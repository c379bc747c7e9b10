import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, ownedBy } from "./actor";
import type { Database } from "./db";
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
