import { randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { NotFoundError } from "../src/errors";
import { testCases, testExecutionSteps, testExecutions } from "../src/schema";
import { recordSteps } from "../src/steps";
import {
  createTestCase,
  deleteTestCase,
  ensureTestCases,
  getTestCase,
  listTestCases,
  updateTestCase,
} from "../src/testCases";
import {
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  rejectionOf,
  startExecutionFor,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const MISSING_ID = 2_000_000_000;

function uniqueTag() {
  return `tag-${randomBytes(4).toString("hex")}`;
}

describe("ensureTestCases", () => {
  it("creates missing keys, finds existing ones, and answers in input order", async () => {
    const member = await createTestUser(h);
    const first = await ensureTestCases(h.db, member.actor, {
      testCases: [
        { key: "cart.spec.ts › adds", title: "adds", tags: ["cart"] },
        { key: "cart.spec.ts › removes", title: "removes" },
      ],
    });
    expect(first.map((t) => [t.key, t.created])).toEqual([
      ["cart.spec.ts › adds", true],
      ["cart.spec.ts › removes", true],
    ]);
    const second = await ensureTestCases(h.db, member.actor, {
      testCases: [
        { key: "cart.spec.ts › empties", title: "empties" },
        { key: "cart.spec.ts › removes", title: "removes" },
        { key: "cart.spec.ts › adds", title: "adds" },
      ],
    });
    expect(second.map((t) => t.created)).toEqual([true, false, false]);
    expect(second[1]?.id).toBe(first[1]?.id);
    expect(second[2]?.id).toBe(first[0]?.id);
    const stored = await getTestCase(h.db, member.actor, { id: first[0]?.id ?? 0 });
    expect(stored).toMatchObject({ key: "cart.spec.ts › adds", tags: ["cart"] });
  });

  it("updates a changed title under the same key, keeping the test case and its tags", async () => {
    const member = await createTestUser(h);
    const [before] = await ensureTestCases(h.db, member.actor, {
      testCases: [{ key: "login › works", title: "Login works", tags: ["auth"] }],
    });
    const [after] = await ensureTestCases(h.db, member.actor, {
      testCases: [{ key: "login › works", title: "Login works with SSO", tags: ["other"] }],
    });
    expect(after?.id).toBe(before?.id);
    const stored = await getTestCase(h.db, member.actor, { id: after?.id ?? 0 });
    expect(stored).toMatchObject({ title: "Login works with SSO", tags: ["auth"] });
  });

  it("keeps keys per owner: the same key from another member is another test case", async () => {
    const [one, two] = await Promise.all([createTestUser(h), createTestUser(h)]);
    const key = "shared.spec.ts › same name";
    const [mine] = await ensureTestCases(h.db, one.actor, { testCases: [{ key, title: "t" }] });
    const [theirs] = await ensureTestCases(h.db, two.actor, { testCases: [{ key, title: "t" }] });
    expect(theirs?.id).not.toBe(mine?.id);
    expect(theirs?.created).toBe(true);
  });

  it("refuses a repeated key, an empty key and more than 500 test cases in one call", async () => {
    const member = await createTestUser(h);
    const calls = [
      {
        testCases: [
          { key: "k", title: "a" },
          { key: "k", title: "b" },
        ],
      },
      { testCases: [{ key: "  ", title: "a" }] },
      { testCases: Array.from({ length: 501 }, (_, i) => ({ key: `k${i}`, title: "t" })) },
      { testCases: [] },
    ];
    for (const input of calls) {
      expect(await rejectionOf(ensureTestCases(h.db, member.actor, input))).toBeInstanceOf(
        ZodError,
      );
    }
  });

  it("creates exactly one test case per key when 8 calls with overlapping keys race", async () => {
    const member = await createTestUser(h);
    const keys = Array.from({ length: 40 }, (_, i) => `race.spec.ts › test ${i}`);
    const calls = Array.from({ length: 8 }, (_, c) =>
      ensureTestCases(h.db, member.actor, {
        testCases: keys.slice(c * 4, c * 4 + 12).map((key) => ({ key, title: key })),
      }),
    );
    const answers = (await Promise.all(calls)).flat();
    const idsByKey = new Map<string, Set<number>>();
    for (const answer of answers) {
      idsByKey.set(answer.key, (idsByKey.get(answer.key) ?? new Set()).add(answer.id));
    }
    expect([...idsByKey.values()].every((ids) => ids.size === 1)).toBe(true);
    const stored = await h.db
      .select({ key: testCases.key })
      .from(testCases)
      .where(eq(testCases.userId, member.id));
    expect(stored.length).toBe(idsByKey.size);
    expect(answers.filter((answer) => answer.created).length).toBe(idsByKey.size);
  });
});

describe("createTestCase", () => {
  it("stores the case for its creator with trimmed fields and ordered steps", async () => {
    const member = await createTestUser(h);
    const created = await createTestCase(h.db, member.actor, {
      title: "  Login works  ",
      description: "The happy path",
      steps: [
        { description: "Open /login", expectedResult: "A form" },
        { description: "Submit" },
        { description: "Look", expectedResult: null },
      ],
      tags: ["auth", " smoke "],
    });
    expect(created).toMatchObject({
      userId: member.id,
      title: "Login works",
      description: "The happy path",
      steps: [
        { description: "Open /login", expectedResult: "A form" },
        { description: "Submit", expectedResult: null },
        { description: "Look", expectedResult: null },
      ],
      tags: ["auth", "smoke"],
    });
    expect(created.id).toBeGreaterThan(0);
  });

  it("defaults to no description, no steps and no tags", async () => {
    const member = await createTestUser(h);
    const created = await createTestCase(h.db, member.actor, { title: "Bare" });
    expect(created).toMatchObject({ description: null, steps: [], tags: [] });
  });

  it("rejects an empty title and unknown fields", async () => {
    const member = await createTestUser(h);
    await expect(createTestCase(h.db, member.actor, { title: "   " })).rejects.toThrow(ZodError);
    await expect(
      createTestCase(h.db, member.actor, { title: "x", owner: 1 } as never),
    ).rejects.toThrow(ZodError);
  });
});

describe("getTestCase", () => {
  it("returns the member's own test case", async () => {
    const member = await createTestUser(h);
    const created = await createTestCaseFor(h, member.actor);
    expect(await getTestCase(h.db, member.actor, { id: created.id })).toEqual(created);
  });

  it("hides another member's test case as NOT_FOUND, exactly like a missing id", async () => {
    const owner = await createTestUser(h);
    const other = await createTestUser(h);
    const created = await createTestCaseFor(h, owner.actor);
    const hidden = await rejectionOf(getTestCase(h.db, other.actor, { id: created.id }));
    const missing = await rejectionOf(getTestCase(h.db, other.actor, { id: MISSING_ID }));
    expect(hidden).toStrictEqual(new NotFoundError("Test case", created.id));
    expect(missing).toStrictEqual(new NotFoundError("Test case", MISSING_ID));
    expect((hidden as Error).message.replace(String(created.id), "#")).toBe(
      (missing as Error).message.replace(String(MISSING_ID), "#"),
    );
  });

  it("lets an admin see any member's test case", async () => {
    const owner = await createTestUser(h);
    const admin = await createTestUser(h, "admin");
    const created = await createTestCaseFor(h, owner.actor);
    expect((await getTestCase(h.db, admin.actor, { id: created.id })).userId).toBe(owner.id);
  });
});

describe("listTestCases", () => {
  it("lists only the member's own test cases, newest first", async () => {
    const member = await createTestUser(h);
    const other = await createTestUser(h);
    const a = await createTestCaseFor(h, member.actor);
    const b = await createTestCaseFor(h, member.actor);
    await createTestCaseFor(h, other.actor);
    const page = await listTestCases(h.db, member.actor, {});
    expect(page).toMatchObject({ total: 2, skip: 0, limit: 50 });
    expect(page.items.map((t) => t.id)).toEqual([b.id, a.id]);
  });

  it("lets an admin list every member's test cases", async () => {
    const tag = uniqueTag();
    const first = await createTestUser(h);
    const second = await createTestUser(h);
    const admin = await createTestUser(h, "admin");
    const a = await createTestCaseFor(h, first.actor, { tags: [tag] });
    const b = await createTestCaseFor(h, second.actor, { tags: [tag] });
    const page = await listTestCases(h.db, admin.actor, { tag });
    expect(page.total).toBe(2);
    expect(page.items.map((t) => t.id).sort()).toEqual([a.id, b.id].sort());
    expect((await listTestCases(h.db, first.actor, { tag })).total).toBe(1);
  });

  it("searches titles case-insensitively as a substring", async () => {
    const member = await createTestUser(h);
    const hit = await createTestCaseFor(h, member.actor, { title: "Checkout with PayPal" });
    await createTestCaseFor(h, member.actor, { title: "Login" });
    const page = await listTestCases(h.db, member.actor, { search: "paypal" });
    expect(page.total).toBe(1);
    expect(page.items.map((t) => t.id)).toEqual([hit.id]);
  });

  it("treats % and _ in a search as literal characters", async () => {
    const member = await createTestUser(h);
    const percent = await createTestCaseFor(h, member.actor, { title: "Discount 100% off" });
    await createTestCaseFor(h, member.actor, { title: "Discount 1000 off" });
    const underscore = await createTestCaseFor(h, member.actor, { title: "user_name field" });
    await createTestCaseFor(h, member.actor, { title: "username field" });
    const byPercent = await listTestCases(h.db, member.actor, { search: "100%" });
    expect(byPercent.items.map((t) => t.id)).toEqual([percent.id]);
    const byUnderscore = await listTestCases(h.db, member.actor, { search: "user_name" });
    expect(byUnderscore.items.map((t) => t.id)).toEqual([underscore.id]);
  });

  it("filters by an exact tag, combined with a search", async () => {
    const member = await createTestUser(h);
    const tag = uniqueTag();
    const tagged = await createTestCaseFor(h, member.actor, { title: "Cart total", tags: [tag] });
    const taggedOther = await createTestCaseFor(h, member.actor, {
      title: "Cart empty",
      tags: [tag, "x"],
    });
    await createTestCaseFor(h, member.actor, { title: "Cart badge", tags: [`${tag}-suffix`] });
    const byTag = await listTestCases(h.db, member.actor, { tag });
    expect(byTag.items.map((t) => t.id)).toEqual([taggedOther.id, tagged.id]);
    const both = await listTestCases(h.db, member.actor, { tag, search: "total" });
    expect(both.items.map((t) => t.id)).toEqual([tagged.id]);
    expect(both.total).toBe(1);
  });

  it("pages with skip and limit and reports the full total", async () => {
    const member = await createTestUser(h);
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createTestCaseFor(h, member.actor));
    const newestFirst = created.map((t) => t.id).reverse();
    const page = await listTestCases(h.db, member.actor, { skip: 1, limit: 2 });
    expect(page).toMatchObject({ total: 5, skip: 1, limit: 2 });
    expect(page.items.map((t) => t.id)).toEqual(newestFirst.slice(1, 3));
    const beyond = await listTestCases(h.db, member.actor, { skip: 10, limit: 2 });
    expect(beyond).toMatchObject({ items: [], total: 5, skip: 10, limit: 2 });
    await expect(listTestCases(h.db, member.actor, { limit: 101 })).rejects.toThrow(ZodError);
    await expect(listTestCases(h.db, member.actor, { skip: -1 })).rejects.toThrow(ZodError);
  });
});

describe("updateTestCase", () => {
  it("changes only the given fields and moves updatedAt forward", async () => {
    const member = await createTestUser(h);
    const created = await createTestCaseFor(h, member.actor, { description: "keep me" });
    const updated = await updateTestCase(h.db, member.actor, {
      id: created.id,
      title: "Renamed",
      tags: ["regression"],
      steps: [{ description: "New step", expectedResult: "Works" }],
    });
    expect(updated).toMatchObject({
      id: created.id,
      title: "Renamed",
      description: "keep me",
      tags: ["regression"],
      steps: [{ description: "New step", expectedResult: "Works" }],
    });
    expect(updated.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    expect(await getTestCase(h.db, member.actor, { id: created.id })).toEqual(updated);
  });

  it("clears the description when given null", async () => {
    const member = await createTestUser(h);
    const created = await createTestCaseFor(h, member.actor, { description: "old" });
    const updated = await updateTestCase(h.db, member.actor, { id: created.id, description: null });
    expect(updated.description).toBeNull();
  });

  it("hides another member's test case as NOT_FOUND and leaves it unchanged", async () => {
    const owner = await createTestUser(h);
    const other = await createTestUser(h);
    const created = await createTestCaseFor(h, owner.actor);
    await expect(
      updateTestCase(h.db, other.actor, { id: created.id, title: "Hijacked" }),
    ).rejects.toStrictEqual(new NotFoundError("Test case", created.id));
    await expect(
      updateTestCase(h.db, other.actor, { id: MISSING_ID, title: "Hijacked" }),
    ).rejects.toStrictEqual(new NotFoundError("Test case", MISSING_ID));
    expect((await getTestCase(h.db, owner.actor, { id: created.id })).title).toBe(created.title);
  });

  it("lets an admin update any member's test case", async () => {
    const owner = await createTestUser(h);
    const admin = await createTestUser(h, "admin");
    const created = await createTestCaseFor(h, owner.actor);
    const updated = await updateTestCase(h.db, admin.actor, { id: created.id, title: "By admin" });
    expect(updated).toMatchObject({ title: "By admin", userId: owner.id });
  });
});

describe("deleteTestCase", () => {
  it("deletes the test case and, by cascade, its executions and their steps", async () => {
    const member = await createTestUser(h);
    const doomed = await createTestCaseFor(h, member.actor);
    const kept = await createTestCaseFor(h, member.actor);
    const executionId = await startExecutionFor(h, member.actor, doomed.id);
    const keptExecutionId = await startExecutionFor(h, member.actor, kept.id);
    await recordSteps(h.db, member.actor, {
      executionId,
      steps: { stepNumber: 1, stepDescription: "open", result: "pass" },
    });

    expect(await deleteTestCase(h.db, member.actor, { id: doomed.id })).toEqual({ id: doomed.id });

    expect(await h.db.select().from(testCases).where(eq(testCases.id, doomed.id))).toEqual([]);
    expect(
      await h.db.select().from(testExecutions).where(eq(testExecutions.testCaseId, doomed.id)),
    ).toEqual([]);
    expect(
      await h.db
        .select()
        .from(testExecutionSteps)
        .where(eq(testExecutionSteps.executionId, executionId)),
    ).toEqual([]);
    const [survivor] = await h.db
      .select()
      .from(testExecutions)
      .where(eq(testExecutions.id, keptExecutionId));
    expect(survivor?.testCaseId).toBe(kept.id);
  });

  it("hides another member's test case as NOT_FOUND and keeps it", async () => {
    const owner = await createTestUser(h);
    const other = await createTestUser(h);
    const created = await createTestCaseFor(h, owner.actor);
    await expect(deleteTestCase(h.db, other.actor, { id: created.id })).rejects.toStrictEqual(
      new NotFoundError("Test case", created.id),
    );
    expect((await getTestCase(h.db, owner.actor, { id: created.id })).id).toBe(created.id);
  });

  it("lets an admin delete any member's test case", async () => {
    const owner = await createTestUser(h);
    const admin = await createTestUser(h, "admin");
    const created = await createTestCaseFor(h, owner.actor);
    await deleteTestCase(h.db, admin.actor, { id: created.id });
    await expect(getTestCase(h.db, owner.actor, { id: created.id })).rejects.toThrow(NotFoundError);
  });

  it("answers NOT_FOUND when deleting twice", async () => {
    const member = await createTestUser(h);
    const created = await createTestCaseFor(h, member.actor);
    await deleteTestCase(h.db, member.actor, { id: created.id });
    await expect(deleteTestCase(h.db, member.actor, { id: created.id })).rejects.toStrictEqual(
      new NotFoundError("Test case", created.id),
    );
  });
});
