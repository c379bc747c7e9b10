import { createTestUser, openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../src/router";
import {
  type Caller,
  callerAs,
  callerWith,
  createOwnedObjects,
  createTestPrincipal,
  type OwnedObjects,
  outcomeOf,
  type TestPrincipal,
} from "./fixtures";

/**
 * Every procedure run as four callers against objects owned by "owner". An expected cell is a
 * tRPC error code, "ok" (the call succeeds), or for lists "sees" / "hidden" (the call succeeds
 * and the owner's object is, or is not, in the answer).
 */
type Role = "anonymous" | "owner" | "otherMember" | "admin";
type Expected = "ok" | "sees" | "hidden" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";

interface Row {
  procedure: string;
  call(caller: Caller, fx: OwnedObjects): Promise<unknown>;
  /** For "sees" / "hidden" cells: whether the answer includes the owner's object. */
  sees?(answer: never, fx: OwnedObjects): boolean;
  expect: Record<Role, Expected>;
}

const SIGNED_IN_ONLY = {
  anonymous: "UNAUTHORIZED",
  owner: "ok",
  otherMember: "ok",
  admin: "ok",
} as const;
const OWNER_OR_ADMIN = {
  anonymous: "UNAUTHORIZED",
  owner: "ok",
  otherMember: "NOT_FOUND",
  admin: "ok",
} as const;
const LISTED_FOR_OWNER_OR_ADMIN = {
  anonymous: "UNAUTHORIZED",
  owner: "sees",
  otherMember: "hidden",
  admin: "sees",
} as const;
const ADMIN_ONLY = {
  anonymous: "UNAUTHORIZED",
  owner: "FORBIDDEN",
  otherMember: "FORBIDDEN",
  admin: "ok",
} as const;

let db: TestDatabase;
let principals: Record<Exclude<Role, "anonymous">, TestPrincipal>;
let emailCounter = 0;

const rows: Row[] = [
  {
    procedure: "auth.login",
    call: async (caller) => {
      const user = await createTestUser(db);
      return caller.auth.login({ email: user.email, password: "correct horse battery staple" });
    },
    expect: { anonymous: "ok", owner: "ok", otherMember: "ok", admin: "ok" },
  },
  { procedure: "auth.me", call: (caller) => caller.auth.me(), expect: { ...SIGNED_IN_ONLY } },
  {
    procedure: "auth.logout",
    call: (caller) => caller.auth.logout(),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "auth.createApiToken",
    call: (caller) => caller.auth.createApiToken({ name: "matrix" }),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "auth.listApiTokens",
    call: (caller) => caller.auth.listApiTokens(),
    sees: (tokens: { id: number }[], fx) => tokens.some((t) => t.id === fx.apiTokenId),
    // API tokens are personal: not even an admin lists someone else's.
    expect: { anonymous: "UNAUTHORIZED", owner: "sees", otherMember: "hidden", admin: "hidden" },
  },
  {
    procedure: "auth.revokeApiToken",
    call: (caller, fx) => caller.auth.revokeApiToken({ id: fx.apiTokenId }),
    // API tokens are personal: an admin removes a user instead of revoking their tokens.
    expect: {
      anonymous: "UNAUTHORIZED",
      owner: "ok",
      otherMember: "NOT_FOUND",
      admin: "NOT_FOUND",
    },
  },
  {
    procedure: "user.create",
    call: (caller) =>
      caller.user.create({
        email: `matrix-${++emailCounter}@example.test`,
        name: "Matrix",
        password: "long enough password",
      }),
    expect: { ...ADMIN_ONLY },
  },
  { procedure: "user.list", call: (caller) => caller.user.list(), expect: { ...ADMIN_ONLY } },
  {
    procedure: "user.delete",
    call: async (caller) => caller.user.delete({ id: (await createTestUser(db)).id }),
    expect: { ...ADMIN_ONLY },
  },
  {
    procedure: "testCase.create",
    call: (caller) => caller.testCase.create({ title: "Matrix" }),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "testCase.ensure",
    // Keys are the caller's own: the same key from another member is another test case.
    call: (caller) => caller.testCase.ensure({ key: "matrix.spec.ts › ensure", title: "Ensure" }),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "testCase.ensureMany",
    call: (caller) =>
      caller.testCase.ensureMany({
        testCases: [
          { key: "matrix.spec.ts › a", title: "A" },
          { key: "matrix.spec.ts › b", title: "B", tags: ["matrix"] },
        ],
      }),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "testCase.get",
    call: (caller, fx) => caller.testCase.get({ id: fx.testCaseId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "testCase.list",
    call: (caller) => caller.testCase.list({ limit: 100 }),
    sees: (page: { items: { id: number }[] }, fx) => page.items.some((t) => t.id === fx.testCaseId),
    expect: { ...LISTED_FOR_OWNER_OR_ADMIN },
  },
  {
    procedure: "testCase.update",
    call: (caller, fx) => caller.testCase.update({ id: fx.testCaseId, title: "Renamed" }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "testCase.delete",
    call: (caller, fx) => caller.testCase.delete({ id: fx.testCaseId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.start",
    call: (caller, fx) => caller.execution.start({ testCaseId: fx.testCaseId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.history",
    call: (caller, fx) => caller.execution.history({ testCaseId: fx.testCaseId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.list",
    call: (caller) => caller.execution.list({ limit: 100 }),
    sees: (page: { items: { id: number }[] }, fx) =>
      page.items.some((e) => e.id === fx.executionId),
    expect: { ...LISTED_FOR_OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.get",
    call: (caller, fx) => caller.execution.get({ id: fx.executionId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.update",
    call: (caller, fx) => caller.execution.update({ id: fx.executionId, consoleLog: "matrix" }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.delete",
    call: (caller, fx) => caller.execution.delete({ id: fx.executionId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "execution.onSteps",
    call: async (caller, fx) => {
      // The first event (the execution as it is now); leaving the loop ends the subscription.
      for await (const event of await caller.execution.onSteps({ executionId: fx.executionId })) {
        return event;
      }
    },
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "step.record",
    call: (caller, fx) =>
      caller.step.record({
        executionId: fx.executionId,
        steps: { stepNumber: 2, stepDescription: "Pay", result: "pass" },
      }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "step.list",
    call: (caller, fx) => caller.step.list({ executionId: fx.executionId }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "step.update",
    call: (caller, fx) => caller.step.update({ id: fx.stepId, result: "fail" }),
    expect: { ...OWNER_OR_ADMIN },
  },
  {
    procedure: "stats.get",
    call: (caller, fx) => caller.stats.get({ testCaseId: fx.testCaseId }),
    sees: (stats: { totalExecutions: number }) => stats.totalExecutions > 0,
    expect: { ...LISTED_FOR_OWNER_OR_ADMIN },
  },
];

const ROLES: Role[] = ["anonymous", "owner", "otherMember", "admin"];
const MISSING_ID = 2_000_000_000;
const missingObjects: OwnedObjects = {
  testCaseId: MISSING_ID,
  executionId: MISSING_ID,
  stepId: MISSING_ID,
  apiTokenId: MISSING_ID,
};

beforeAll(async () => {
  db = await openTestDatabase();
  principals = {
    owner: await createTestPrincipal(db),
    otherMember: await createTestPrincipal(db),
    admin: await createTestPrincipal(db, "admin"),
  };
});
afterAll(() => db.close());

/** A caller for the cell with a token of its own, so a logout in one cell spares the others. */
function callerFor(role: Role): Promise<Caller> {
  if (role === "anonymous") return Promise.resolve(callerWith(db, null));
  return callerAs(db, principals[role].actor);
}

it("has a row for every procedure of appRouter", () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  expect(rows.map((row) => row.procedure).sort()).toEqual(procedures);
});

describe.each(rows)("$procedure", (row) => {
  it.each(ROLES)("as %s answers as the matrix says", async (role) => {
    const fx = await createOwnedObjects(principals.owner);
    const expected = row.expect[role];
    const outcome = await outcomeOf(row.call(await callerFor(role), fx));
    if (expected === "sees" || expected === "hidden") {
      expect(outcome.code).toBe("ok");
      if (outcome.code !== "ok" || !row.sees) throw new Error(`${row.procedure} has no sees()`);
      expect(row.sees(outcome.value as never, fx)).toBe(expected === "sees");
    } else {
      expect(outcome.code).toBe(expected);
    }
  });

  if (row.expect.otherMember === "NOT_FOUND") {
    it("hides another member's object exactly as a missing one", async () => {
      const fx = await createOwnedObjects(principals.owner);
      const hidden = await outcomeOf(row.call(await callerFor("otherMember"), fx));
      const missing = await outcomeOf(row.call(await callerFor("owner"), missingObjects));
      expect(hidden.code).toBe("NOT_FOUND");
      expect(missing.code).toBe("NOT_FOUND");
      const shape = (outcome: typeof hidden) =>
        "message" in outcome ? outcome.message.replace(/\d+/g, "<id>") : "";
      expect(shape(hidden)).toBe(shape(missing));
      expect(shape(hidden)).toMatch(/^[A-Z][\w ]+ <id> was not found$/);
    });
  }
});
