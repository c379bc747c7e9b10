import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { listExecutions } from "../src/executions";
import { testExecutions } from "../src/schema";
import {
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  startExecutionFor,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

it("pages with nextCursor through every execution once, in the same order as skip/limit", async () => {
  const member = await createTestUser(h);
  const testCase = await createTestCaseFor(h, member.actor);
  const ids: number[] = [];
  for (let i = 0; i < 23; i++) ids.push(await startExecutionFor(h, member.actor, testCase.id));
  // Ties on created_at (same microsecond) must be broken by id, never skipped or repeated.
  await h.db.execute(
    sql`update ${testExecutions} set created_at = '2026-05-01T10:00:00.123456Z' where id in (${sql.join(ids.slice(5, 12), sql`, `)})`,
  );
  const byOffset = await listExecutions(h.db, member.actor, { limit: 100 });
  const seen: number[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const result = await listExecutions(h.db, member.actor, {
      limit: 5,
      ...(cursor ? { cursor } : {}),
    });
    seen.push(...result.items.map((item) => item.id));
    expect(result.total).toBe(23);
    if (!result.nextCursor) break;
    cursor = result.nextCursor;
  }
  expect(seen).toEqual(byOffset.items.map((item) => item.id));
  expect(new Set(seen).size).toBe(23);
});

it("refuses a forged cursor and a cursor combined with skip", async () => {
  const member = await createTestUser(h);
  await expect(listExecutions(h.db, member.actor, { cursor: "not-a-cursor" })).rejects.toThrow(
    /not a cursor/,
  );
  const cursor = Buffer.from("5:1700000000000").toString("base64url");
  await expect(listExecutions(h.db, member.actor, { cursor, skip: 5 })).rejects.toThrow(
    /either cursor or skip/,
  );
});
