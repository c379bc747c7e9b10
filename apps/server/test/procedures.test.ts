import { randomBytes } from "node:crypto";
import { EXECUTION_RESULTS, EXECUTION_STATUSES } from "@testtrack/core";
import {
  createTestUser,
  openTestDatabase,
  TEST_PASSWORD,
  type TestDatabase,
} from "@testtrack/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Caller,
  callerWith,
  createOwnedObjects,
  createTestPrincipal,
  type TestPrincipal,
} from "./fixtures";

let db: TestDatabase;
let admin: TestPrincipal;
beforeAll(async () => {
  db = await openTestDatabase();
  admin = await createTestPrincipal(db, "admin");
});
afterAll(() => db.close());

const anonymous = () => callerWith(db, null);
const PUBLIC_USER_KEYS = ["createdAt", "email", "id", "name", "role", "updatedAt"];
const PAGE_KEYS = ["items", "limit", "skip", "total"];
const HOUR_MS = 60 * 60 * 1000;

function uniqueEmail(local: string) {
  return `${local}-${randomBytes(4).toString("hex")}@Example.test`;
}

async function startedExecution(caller: Caller, testCaseId: number, browser = "chromium") {
  const { executionId } = await caller.execution.start({ testCaseId, browser });
  return executionId;
}

describe("auth.login", () => {
  it("answers a session token, its expiry and the user for the right password", async () => {
    const user = await createTestUser(db);
    const before = Date.now();
    const result = await anonymous().auth.login({ email: user.email, password: TEST_PASSWORD });
    expect(result.user).toEqual({
      id: user.id,
      email: user.email,
      name: user.name,
      role: "member",
    });
    expect(result.token).toMatch(/^tt_\S{40,}$/);
    expect(result.expiresAt.getTime()).toBeGreaterThanOrEqual(before + 12 * HOUR_MS);
    expect(result.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + 12 * HOUR_MS);
    const me = await callerWith(db, result.token).auth.me();
    expect(me.id).toBe(user.id);
  });

  it("accepts the email in any letter case", async () => {
    const user = await createTestUser(db);
    const result = await anonymous().auth.login({
      email: user.email.toUpperCase(),
      password: TEST_PASSWORD,
    });
    expect(result.user.id).toBe(user.id);
  });

  it("refuses a wrong password and an unknown email alike with UNAUTHORIZED", async () => {
    const user = await createTestUser(db);
    const wrongPassword = anonymous().auth.login({ email: user.email, password: "not it at all" });
    await expect(wrongPassword).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: "email or password is incorrect",
    });
    const unknownEmail = anonymous().auth.login({
      email: uniqueEmail("nobody"),
      password: TEST_PASSWORD,
    });
    await expect(unknownEmail).rejects.toMatchObject({
      code: "UNAUTHORIZED",
      message: "email or password is incorrect",
    });
  });

  it("refuses even the right password with TOO_MANY_REQUESTS after 5 failures", async () => {
    const user = await createTestUser(db);
    const bystander = await createTestUser(db);
    for (let attempt = 1; attempt <= 5; attempt++) {
      await expect(
        anonymous().auth.login({ email: user.email, password: `guess number ${attempt}` }),
      ).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    }
    await expect(
      anonymous().auth.login({ email: user.email, password: TEST_PASSWORD }),
    ).rejects.toMatchObject({ code: "TOO_MANY_REQUESTS", message: /try again in \d+ s/ });
    const other = await anonymous().auth.login({ email: bystander.email, password: TEST_PASSWORD });
    expect(other.user.id).toBe(bystander.id);
  });

  it("rejects a malformed email with BAD_REQUEST naming the field", async () => {
    await expect(
      anonymous().auth.login({ email: "not-an-email", password: TEST_PASSWORD }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /email/ });
  });
});

describe("auth.me", () => {
  it("answers the signed-in user without a password hash", async () => {
    const member = await createTestPrincipal(db);
    const me = await member.caller.auth.me();
    expect(Object.keys(me).sort()).toEqual(
      [...PUBLIC_USER_KEYS, "personalProjectId", "tokenScope"].sort(),
    );
    expect(me.personalProjectId).toEqual(expect.any(Number));
    expect(me.tokenScope).toBeNull();
    expect(me).toMatchObject({ id: member.id, email: member.email, role: "member" });
  });

  it("answers UNAUTHORIZED for a token the server never issued", async () => {
    await expect(callerWith(db, "tt_made-up-token").auth.me()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
  });
});

describe("auth.logout", () => {
  it("ends the session so its token no longer works, leaving other tokens alone", async () => {
    const member = await createTestPrincipal(db);
    const session = await anonymous().auth.login({ email: member.email, password: TEST_PASSWORD });
    const sessionCaller = callerWith(db, session.token);
    expect(await sessionCaller.auth.logout()).toEqual({ ok: true });
    await expect(sessionCaller.auth.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(callerWith(db, session.token).auth.me()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    expect((await member.caller.auth.me()).id).toBe(member.id);
  });
});

describe("auth.createApiToken", () => {
  it("shows the token once and it works as a bearer token", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.auth.createApiToken({ name: "nightly CI" });
    expect(Object.keys(created).sort()).toEqual([
      "expiresAt",
      "id",
      "name",
      "prefix",
      "projectId",
      "role",
      "token",
    ]);
    expect(created).toMatchObject({ name: "nightly CI", expiresAt: null });
    expect(created.token.startsWith(created.prefix)).toBe(true);
    const me = await callerWith(db, created.token).auth.me();
    expect(me.id).toBe(member.id);
    const listed = await member.caller.auth.listApiTokens();
    expect(JSON.stringify(listed)).not.toContain(created.token);
  });

  it("keeps an expiry in the future and refuses one in the past", async () => {
    const member = await createTestPrincipal(db);
    const expiresAt = new Date(Date.now() + 24 * HOUR_MS).toISOString();
    const created = await member.caller.auth.createApiToken({ name: "one day", expiresAt });
    expect(created.expiresAt?.toISOString()).toBe(expiresAt);
    await expect(
      member.caller.auth.createApiToken({ name: "stale", expiresAt: "2020-01-01T00:00:00Z" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /expiresAt: must be in the future/ });
  });
});

describe("auth.listApiTokens", () => {
  it("lists the caller's API tokens newest first, without the token or its hash", async () => {
    const member = await createTestPrincipal(db);
    await anonymous().auth.login({ email: member.email, password: TEST_PASSWORD });
    const second = await member.caller.auth.createApiToken({ name: "second" });
    const listed = await member.caller.auth.listApiTokens();
    expect(listed.map((t) => t.name)).toEqual(["second", "test"]);
    expect(listed[0]?.id).toBe(second.id);
    for (const token of listed) {
      expect(Object.keys(token).sort()).toEqual([
        "createdAt",
        "expiresAt",
        "id",
        "lastUsedAt",
        "name",
        "prefix",
        "projectId",
        "revokedAt",
        "role",
      ]);
    }
  });
});

describe("auth.revokeApiToken", () => {
  it("makes the revoked token UNAUTHORIZED and marks it revoked in the list", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.auth.createApiToken({ name: "laptop" });
    const revoked = await member.caller.auth.revokeApiToken({ id: created.id });
    expect(revoked.id).toBe(created.id);
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    await expect(callerWith(db, created.token).auth.me()).rejects.toMatchObject({
      code: "UNAUTHORIZED",
    });
    const listed = await member.caller.auth.listApiTokens();
    expect(listed.find((t) => t.id === created.id)?.revokedAt).toEqual(revoked.revokedAt);
    const again = await member.caller.auth.revokeApiToken({ id: created.id });
    expect(again.revokedAt).toEqual(revoked.revokedAt);
  });
});

describe("user.create", () => {
  it("creates a user who can log in, answering the user but never a password hash", async () => {
    const email = uniqueEmail("Grace");
    const created = await admin.caller.user.create({
      email,
      name: "Grace Hopper",
      password: "a long enough password",
      role: "member",
    });
    expect(Object.keys(created).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(created).toMatchObject({ email: email.toLowerCase(), name: "Grace Hopper" });
    const session = await anonymous().auth.login({ email, password: "a long enough password" });
    expect(session.user.id).toBe(created.id);
  });

  it("makes a member unless told otherwise, and an admin when asked", async () => {
    const member = await admin.caller.user.create({
      email: uniqueEmail("m"),
      name: "M",
      password: TEST_PASSWORD,
    });
    const second = await admin.caller.user.create({
      email: uniqueEmail("a"),
      name: "A",
      password: TEST_PASSWORD,
      role: "admin",
    });
    expect([member.role, second.role]).toEqual(["member", "admin"]);
  });

  it("answers CONFLICT for an email already taken in another letter case", async () => {
    const email = uniqueEmail("twin");
    await admin.caller.user.create({ email, name: "One", password: TEST_PASSWORD });
    await expect(
      admin.caller.user.create({
        email: email.toUpperCase(),
        name: "Two",
        password: TEST_PASSWORD,
      }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /already exists/ });
  });

  it("answers BAD_REQUEST for a password shorter than 8 characters", async () => {
    await expect(
      admin.caller.user.create({ email: uniqueEmail("short"), name: "S", password: "short" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /password: must be at least 8/ });
  });
});

describe("user.list", () => {
  it("lists every user without password hashes", async () => {
    const member = await createTestPrincipal(db);
    const users = await admin.caller.user.list();
    expect(users.map((u) => u.id)).toEqual(expect.arrayContaining([admin.id, member.id]));
    for (const user of users) expect(Object.keys(user).sort()).toEqual(PUBLIC_USER_KEYS);
  });
});

describe("user.delete", () => {
  it("deletes a user with their tokens, test cases and executions", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    expect(await admin.caller.user.delete({ id: member.id })).toEqual({ id: member.id });
    await expect(member.caller.auth.me()).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    await expect(admin.caller.testCase.get({ id: owned.testCaseId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    await expect(admin.caller.execution.get({ id: owned.executionId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
    expect((await admin.caller.user.list()).map((u) => u.id)).not.toContain(member.id);
  });

  it("refuses to delete the admin's own account with CONFLICT", async () => {
    await expect(admin.caller.user.delete({ id: admin.id })).rejects.toMatchObject({
      code: "CONFLICT",
    });
  });

  it("answers NOT_FOUND for a user that does not exist", async () => {
    await expect(admin.caller.user.delete({ id: 2_000_000_000 })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "User 2000000000 was not found",
    });
  });
});

describe("testCase", () => {
  it("creates a test case with defaults for what was left out", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.testCase.create({
      title: "  Sign up  ",
      steps: [{ description: "Open the form" }],
    });
    expect(created).toMatchObject({
      userId: member.id,
      title: "Sign up",
      description: null,
      steps: [{ description: "Open the form", expectedResult: null }],
      tags: [],
    });
    expect(created.id).toBeGreaterThan(0);
  });

  it("refuses an empty title and unknown fields with BAD_REQUEST", async () => {
    const member = await createTestPrincipal(db);
    await expect(member.caller.testCase.create({ title: " " })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: /title: must not be empty/,
    });
    await expect(
      member.caller.testCase.create({ title: "x", owner: 1 } as never),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /owner/ });
  });

  it("gets a test case by id", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.testCase.create({ title: "Search", tags: ["smoke"] });
    expect(await member.caller.testCase.get({ id: created.id })).toEqual(created);
  });

  it("lists the caller's own test cases newest first as a page", async () => {
    const member = await createTestPrincipal(db);
    const other = await createTestPrincipal(db);
    await other.caller.testCase.create({ title: "Not mine" });
    const titles = ["Alpha login", "Beta search", "Gamma login"];
    for (const title of titles) await member.caller.testCase.create({ title });
    const page = await member.caller.testCase.list({ skip: 1, limit: 1 });
    expect(Object.keys(page).sort()).toEqual(PAGE_KEYS);
    expect(page).toMatchObject({ total: 3, skip: 1, limit: 1 });
    expect(page.items.map((t) => t.title)).toEqual(["Beta search"]);
    const all = await member.caller.testCase.list();
    expect(all).toMatchObject({ total: 3, skip: 0, limit: 50 });
    expect(all.items.map((t) => t.title)).toEqual(["Gamma login", "Beta search", "Alpha login"]);
  });

  it("filters the list by a title search and by tag", async () => {
    const member = await createTestPrincipal(db);
    await member.caller.testCase.create({ title: "Pay with 100% discount", tags: ["payments"] });
    await member.caller.testCase.create({ title: "Pay by card", tags: ["payments", "smoke"] });
    await member.caller.testCase.create({ title: "Log out" });
    const searched = await member.caller.testCase.list({ search: "100%" });
    expect(searched.items.map((t) => t.title)).toEqual(["Pay with 100% discount"]);
    const tagged = await member.caller.testCase.list({ tag: "smoke" });
    expect(tagged.items.map((t) => t.title)).toEqual(["Pay by card"]);
    expect((await member.caller.testCase.list({ search: "pay" })).total).toBe(2);
  });

  it("lets an admin list every member's test cases", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.testCase.create({ title: "Visible to admins" });
    const page = await admin.caller.testCase.list({ search: "Visible to admins", limit: 100 });
    expect(page.items.map((t) => t.id)).toContain(created.id);
  });

  it("updates only the fields sent and can clear the description", async () => {
    const member = await createTestPrincipal(db);
    const created = await member.caller.testCase.create({
      title: "Old title",
      description: "old",
      tags: ["a"],
    });
    const renamed = await member.caller.testCase.update({ id: created.id, title: "New title" });
    expect(renamed).toMatchObject({ title: "New title", description: "old", tags: ["a"] });
    expect(renamed.updatedAt.getTime()).toBeGreaterThanOrEqual(created.updatedAt.getTime());
    const cleared = await member.caller.testCase.update({
      id: created.id,
      description: null,
      steps: [{ description: "Only step", expectedResult: "Done" }],
    });
    expect(cleared).toMatchObject({
      title: "New title",
      description: null,
      steps: [{ description: "Only step", expectedResult: "Done" }],
    });
  });

  it("deletes a test case together with its executions", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    expect(await member.caller.testCase.delete({ id: owned.testCaseId })).toEqual({
      id: owned.testCaseId,
    });
    await expect(member.caller.testCase.get({ id: owned.testCaseId })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `Test case ${owned.testCaseId} was not found`,
    });
    await expect(member.caller.execution.get({ id: owned.executionId })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });
});

describe("execution.start", () => {
  it("creates a pending execution and says so", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Start me" });
    const started = await member.caller.execution.start({
      testCaseId: testCase.id,
      browser: " Firefox ",
      environment: "Staging",
      baseUrl: "https://staging.example.com",
      triggeredBy: "ci_cd",
      triggerDetails: "pipeline 42",
    });
    expect(started).toMatchObject({ testCaseId: testCase.id, status: "pending" });
    expect(started.message).toContain(String(started.executionId));
    const got = await member.caller.execution.get({ id: started.executionId });
    expect(got).toMatchObject({
      browser: "firefox",
      environment: "staging",
      baseUrl: "https://staging.example.com",
      triggeredBy: "ci_cd",
      triggerDetails: "pipeline 42",
      userId: member.id,
      result: null,
      startedAt: null,
    });
  });

  it("answers the first execution again for a repeated idempotency key", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Retried upload" });
    const input = { testCaseId: testCase.id, browser: "webkit", idempotencyKey: "run-7" };
    const first = await member.caller.execution.start(input);
    const second = await member.caller.execution.start(input);
    expect(second.executionId).toBe(first.executionId);
    expect((await member.caller.execution.history({ testCaseId: testCase.id })).total).toBe(1);
  });

  it("answers CONFLICT when an idempotency key is reused for a different request", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Key reuse" });
    await member.caller.execution.start({ testCaseId: testCase.id, idempotencyKey: "k" });
    await expect(
      member.caller.execution.start({
        testCaseId: testCase.id,
        browser: "firefox",
        idempotencyKey: "k",
      }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /idempotency key "k"/ });
  });

  it("answers NOT_FOUND for a missing test case and BAD_REQUEST for a non-http base URL", async () => {
    const member = await createTestPrincipal(db);
    await expect(
      member.caller.execution.start({ testCaseId: 2_000_000_000 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND", message: "Test case 2000000000 was not found" });
    const testCase = await member.caller.testCase.create({ title: "Bad URL" });
    await expect(
      member.caller.execution.start({ testCaseId: testCase.id, baseUrl: "ftp://example.com" }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /baseUrl/ });
  });
});

describe("execution.history", () => {
  it("pages through one test case's executions newest first", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Has history" });
    const elsewhere = await member.caller.testCase.create({ title: "Elsewhere" });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await startedExecution(member.caller, testCase.id));
    await startedExecution(member.caller, elsewhere.id);
    const page = await member.caller.execution.history({ testCaseId: testCase.id, limit: 2 });
    expect(Object.keys(page).sort()).toEqual([...PAGE_KEYS, "nextCursor"].sort());
    expect(page).toMatchObject({ total: 3, skip: 0, limit: 2 });
    expect(page.items.map((e) => e.id)).toEqual([ids[2], ids[1]]);
    expect(page.items[0]).toMatchObject({ testCaseTitle: "Has history" });
    const rest = await member.caller.execution.history({ testCaseId: testCase.id, skip: 2 });
    expect(rest.items.map((e) => e.id)).toEqual([ids[0]]);
  });

  it("answers NOT_FOUND for a test case that does not exist", async () => {
    const member = await createTestPrincipal(db);
    await expect(
      member.caller.execution.history({ testCaseId: 2_000_000_000 }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("execution.list", () => {
  it("filters by status, result, browser, environment and test case", async () => {
    const member = await createTestPrincipal(db);
    const a = await member.caller.testCase.create({ title: "A" });
    const b = await member.caller.testCase.create({ title: "B" });
    const passed = await startedExecution(member.caller, a.id, "chromium");
    await member.caller.step.record({
      executionId: passed,
      steps: { stepNumber: 1, stepDescription: "works", result: "pass" },
    });
    await member.caller.execution.update({ id: passed, status: "completed" });
    const pending = (
      await member.caller.execution.start({
        testCaseId: b.id,
        browser: "Firefox",
        environment: "qa",
      })
    ).executionId;
    const ids = async (filters: Parameters<Caller["execution"]["list"]>[0]) =>
      (await member.caller.execution.list(filters)).items.map((e) => e.id);

    expect(await ids({})).toEqual([pending, passed]);
    expect(await ids({ status: "completed" })).toEqual([passed]);
    expect(await ids({ result: "pass" })).toEqual([passed]);
    expect(await ids({ result: "fail" })).toEqual([]);
    expect(await ids({ browser: "FIREFOX" })).toEqual([pending]);
    expect(await ids({ environment: "qa" })).toEqual([pending]);
    expect(await ids({ testCaseId: a.id })).toEqual([passed]);
    expect(await ids({ status: "pending", testCaseId: a.id })).toEqual([]);
    const page = await member.caller.execution.list({ limit: 1, skip: 1 });
    expect(page).toMatchObject({ total: 2, skip: 1, limit: 1 });
    expect(page.items.map((e) => e.id)).toEqual([passed]);
  });

  it("leaves the console log out of list items", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    await member.caller.execution.update({ id: owned.executionId, consoleLog: "a long log" });
    const [item] = (await member.caller.execution.list()).items;
    expect(item).toBeDefined();
    expect(item).not.toHaveProperty("consoleLog");
  });

  it("refuses a page size over 100 with BAD_REQUEST", async () => {
    const member = await createTestPrincipal(db);
    await expect(member.caller.execution.list({ limit: 101 })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: /limit/,
    });
  });
});

describe("execution.get", () => {
  it("answers every column, the test case title and the steps in step order", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Detailed" });
    const executionId = await startedExecution(member.caller, testCase.id);
    await member.caller.step.record({
      executionId,
      steps: [
        { stepNumber: 3, stepDescription: "third", result: "pass" },
        { stepNumber: 1, stepDescription: "first", result: "pass" },
      ],
    });
    await member.caller.step.record({
      executionId,
      steps: { stepNumber: 2, stepDescription: "second", result: "skip" },
    });
    const got = await member.caller.execution.get({ id: executionId });
    expect(got.steps.map((s) => s.stepNumber)).toEqual([1, 2, 3]);
    expect(got).toMatchObject({
      id: executionId,
      testCaseId: testCase.id,
      testCaseTitle: "Detailed",
      status: "running",
      totalSteps: 3,
      passedSteps: 2,
      skippedSteps: 1,
      failedSteps: 0,
    });
    for (const column of [
      "startedAt",
      "completedAt",
      "durationSeconds",
      "browser",
      "environment",
      "baseUrl",
      "consoleLog",
      "errorMessage",
      "screenshotPath",
      "videoPath",
      "triggeredBy",
      "triggerDetails",
      "createdAt",
      "updatedAt",
    ]) {
      expect(got).toHaveProperty(column);
    }
    expect(got).not.toHaveProperty("idempotencyKey");
    expect(got).not.toHaveProperty("idempotencyFingerprint");
  });
});

describe("execution.update", () => {
  it("follows the lifecycle pending → running → completed, filling in the timings", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Lifecycle" });
    const executionId = await startedExecution(member.caller, testCase.id);
    const running = await member.caller.execution.update({ id: executionId, status: "running" });
    expect(running.status).toBe("running");
    expect(running.startedAt).toBeInstanceOf(Date);
    const completed = await member.caller.execution.update({
      id: executionId,
      status: "completed",
      result: "pass",
      durationSeconds: 12.5,
      screenshotPath: "shots/final.png",
    });
    expect(completed).toMatchObject({
      status: "completed",
      result: "pass",
      durationSeconds: 12.5,
      screenshotPath: "shots/final.png",
    });
    expect(completed.completedAt).toBeInstanceOf(Date);
  });

  it("answers CONFLICT for an invalid move such as completed → running", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Final" });
    const executionId = await startedExecution(member.caller, testCase.id);
    await expect(
      member.caller.execution.update({ id: executionId, status: "completed" }),
    ).rejects.toMatchObject({
      code: "CONFLICT",
      message:
        "an execution that is pending cannot become completed; it can become running or cancelled",
    });
    await member.caller.execution.update({ id: executionId, status: "running" });
    await member.caller.execution.update({ id: executionId, status: "completed" });
    await expect(
      member.caller.execution.update({ id: executionId, status: "running" }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /already completed, which is final/ });
    await expect(
      member.caller.execution.update({ id: executionId, result: "fail" }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
  });

  it("still attaches artifacts to a finished execution", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Late video" });
    const executionId = await startedExecution(member.caller, testCase.id);
    await member.caller.execution.update({ id: executionId, status: "cancelled" });
    const updated = await member.caller.execution.update({
      id: executionId,
      status: "cancelled",
      videoPath: "videos/run.webm",
      consoleLog: "stopped by user",
    });
    expect(updated).toMatchObject({
      status: "cancelled",
      videoPath: "videos/run.webm",
      consoleLog: "stopped by user",
    });
  });

  it("refuses a completion time before the start with CONFLICT", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Time travel" });
    const executionId = await startedExecution(member.caller, testCase.id);
    await expect(
      member.caller.execution.update({
        id: executionId,
        status: "failed",
        startedAt: "2026-01-02T00:00:00Z",
        completedAt: "2026-01-01T00:00:00Z",
      }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /completedAt must not be before/ });
  });
});

describe("execution.delete", () => {
  it("deletes an execution and its steps", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    expect(await member.caller.execution.delete({ id: owned.executionId })).toEqual({
      id: owned.executionId,
    });
    await expect(member.caller.execution.get({ id: owned.executionId })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: `Execution ${owned.executionId} was not found`,
    });
    await expect(member.caller.step.list({ executionId: owned.executionId })).rejects.toMatchObject(
      { code: "NOT_FOUND" },
    );
    await expect(
      member.caller.step.update({ id: owned.stepId, result: "fail" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(await member.caller.testCase.get({ id: owned.testCaseId })).toBeDefined();
  });
});

describe("step.record", () => {
  it("stores a single step object and moves a pending execution to running", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "One step" });
    const executionId = await startedExecution(member.caller, testCase.id);
    const recorded = await member.caller.step.record({
      executionId,
      steps: {
        stepNumber: 1,
        stepDescription: "Open the page",
        result: "pass",
        expectedResult: "It opens",
        actualResult: "It opened",
        durationSeconds: 0.4,
        isCritical: true,
      },
    });
    expect(recorded.steps).toHaveLength(1);
    expect(recorded.steps[0]).toMatchObject({
      executionId,
      stepNumber: 1,
      stepDescription: "Open the page",
      result: "pass",
      durationSeconds: 0.4,
      isCritical: true,
      retryCount: 0,
    });
    expect(recorded.summary).toEqual({
      id: executionId,
      status: "running",
      result: "pass",
      totalSteps: 1,
      passedSteps: 1,
      failedSteps: 0,
      skippedSteps: 0,
    });
  });

  it("stores an array of steps in step order and sums them up", async () => {
    const member = await createTestPrincipal(db);
    const testCase = await member.caller.testCase.create({ title: "Many steps" });
    const executionId = await startedExecution(member.caller, testCase.id);
    const recorded = await member.caller.step.record({
      executionId,
      steps: [
        { stepNumber: 2, stepDescription: "b", result: "fail", errorMessage: "button missing" },
        { stepNumber: 1, stepDescription: "a", result: "pass" },
        { stepNumber: 3, stepDescription: "c", result: "skip" },
      ],
    });
    expect(recorded.steps.map((s) => s.stepNumber)).toEqual([1, 2, 3]);
    expect(recorded.summary).toMatchObject({
      result: "fail",
      totalSteps: 3,
      passedSteps: 1,
      failedSteps: 1,
      skippedSteps: 1,
    });
  });

  it("changes nothing when a stored step number is sent again", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    const before = await member.caller.execution.get({ id: owned.executionId });
    const resent = await member.caller.step.record({
      executionId: owned.executionId,
      steps: { stepNumber: 1, stepDescription: "something else", result: "fail" },
    });
    expect(resent.steps).toEqual(before.steps);
    expect(resent.summary).toMatchObject({ result: "pass", totalSteps: 1, failedSteps: 0 });
    const after = await member.caller.step.list({ executionId: owned.executionId });
    expect(after).toEqual(before.steps);
  });

  it("accepts a resend after completion as a no-op but refuses new steps with CONFLICT", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    await member.caller.execution.update({ id: owned.executionId, status: "completed" });
    const resent = await member.caller.step.record({
      executionId: owned.executionId,
      steps: { stepNumber: 1, stepDescription: "Open the cart", result: "pass" },
    });
    expect(resent.summary).toMatchObject({ status: "completed", totalSteps: 1 });
    await expect(
      member.caller.step.record({
        executionId: owned.executionId,
        steps: { stepNumber: 2, stepDescription: "late", result: "pass" },
      }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /already completed/ });
  });

  it("refuses the same step number twice in one call with BAD_REQUEST", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    await expect(
      member.caller.step.record({
        executionId: owned.executionId,
        steps: [
          { stepNumber: 5, stepDescription: "x", result: "pass" },
          { stepNumber: 5, stepDescription: "y", result: "pass" },
        ],
      }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: /only once per call/ });
  });

  it("refuses an unknown result with BAD_REQUEST naming the step's field", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    const step = { stepNumber: 2, stepDescription: "x", result: "passed" as "pass" };
    await expect(
      member.caller.step.record({ executionId: owned.executionId, steps: [step] }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: /^invalid input: steps\.0\.result: Invalid option/,
    });
    await expect(
      member.caller.step.record({ executionId: owned.executionId, steps: step }),
    ).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: /^invalid input: steps\.result: Invalid option/,
    });
  });
});

describe("step.list", () => {
  it("answers the steps in step order", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    await member.caller.step.record({
      executionId: owned.executionId,
      steps: [
        { stepNumber: 10, stepDescription: "ten", result: "pass" },
        { stepNumber: 4, stepDescription: "four", result: "pass" },
      ],
    });
    const steps = await member.caller.step.list({ executionId: owned.executionId });
    expect(steps.map((s) => s.stepNumber)).toEqual([1, 4, 10]);
  });
});

describe("step.update", () => {
  it("corrects a step and recomputes the execution's summary", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    const updated = await member.caller.step.update({
      id: owned.stepId,
      result: "fail",
      actualResult: "The cart was empty",
      retryCount: 2,
    });
    expect(updated.steps[0]).toMatchObject({
      id: owned.stepId,
      result: "fail",
      actualResult: "The cart was empty",
      retryCount: 2,
      stepDescription: "Open the cart",
    });
    expect(updated.summary).toMatchObject({ result: "fail", passedSteps: 0, failedSteps: 1 });
    const execution = await member.caller.execution.get({ id: owned.executionId });
    expect(execution).toMatchObject({ result: "fail", failedSteps: 1 });
  });

  it("answers CONFLICT for a step of a finished execution", async () => {
    const member = await createTestPrincipal(db);
    const owned = await createOwnedObjects(member);
    await member.caller.execution.update({ id: owned.executionId, status: "failed" });
    await expect(
      member.caller.step.update({ id: owned.stepId, result: "fail" }),
    ).rejects.toMatchObject({ code: "CONFLICT", message: /steps cannot change/ });
  });

  it("answers NOT_FOUND for a step that does not exist", async () => {
    const member = await createTestPrincipal(db);
    await expect(
      member.caller.step.update({ id: 2_000_000_000, result: "pass" }),
    ).rejects.toMatchObject({ code: "NOT_FOUND", message: "Step 2000000000 was not found" });
  });
});

describe("stats.get", () => {
  it("answers every status and result key with zeros when nothing ran", async () => {
    const member = await createTestPrincipal(db);
    const stats = await member.caller.stats.get();
    expect(stats).toEqual({
      totalExecutions: 0,
      byStatus: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])),
      byResult: Object.fromEntries(EXECUTION_RESULTS.map((r) => [r, 0])),
      byBrowser: {},
      byEnvironment: {},
      passRate: 0,
      averageDurationSeconds: null,
      totalDurationHours: 0,
      executionsLast24h: 0,
      executionsLast7d: 0,
      executionsLast30d: 0,
      mostExecutedTests: [],
    });
  });

  it("sums up the caller's executions by status, result, browser and environment", async () => {
    const member = await createTestPrincipal(db);
    await createOwnedObjects(await createTestPrincipal(db));
    const login = await member.caller.testCase.create({ title: "Login" });
    const search = await member.caller.testCase.create({ title: "Search" });
    const finish = async (testCaseId: number, result: "pass" | "fail", seconds: number) => {
      const executionId = await startedExecution(member.caller, testCaseId);
      await member.caller.step.record({
        executionId,
        steps: { stepNumber: 1, stepDescription: "only", result },
      });
      await member.caller.execution.update({
        id: executionId,
        status: result === "pass" ? "completed" : "failed",
        durationSeconds: seconds,
      });
    };
    await finish(login.id, "pass", 2);
    await finish(login.id, "fail", 4);
    await member.caller.execution.start({
      testCaseId: login.id,
      browser: "firefox",
      environment: "prod",
    });
    await startedExecution(member.caller, search.id);

    const stats = await member.caller.stats.get();
    expect(stats).toMatchObject({
      totalExecutions: 4,
      byStatus: { pending: 2, running: 0, completed: 1, failed: 1, cancelled: 0 },
      byResult: { pass: 1, fail: 1, error: 0, skip: 0 },
      byBrowser: { chromium: 3, firefox: 1 },
      byEnvironment: { unspecified: 3, prod: 1 },
      passRate: 50,
      averageDurationSeconds: 3,
      totalDurationHours: 0.0017,
      executionsLast24h: 4,
      executionsLast7d: 4,
      executionsLast30d: 4,
      mostExecutedTests: [
        { testCaseId: login.id, title: "Login", count: 3 },
        { testCaseId: search.id, title: "Search", count: 1 },
      ],
    });

    const onlySearch = await member.caller.stats.get({ testCaseId: search.id });
    expect(onlySearch).toMatchObject({ totalExecutions: 1, byStatus: { pending: 1 } });
    const future = await member.caller.stats.get({ since: "2999-01-01T00:00:00Z" });
    expect(future.totalExecutions).toBe(0);
  });
});
