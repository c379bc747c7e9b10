import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import type { Actor } from "../src/actor";
import type { ExecutionResult, ExecutionStatus } from "../src/schema";
import { type ExecutionStatistics, executionStatistics } from "../src/stats";
import {
  createTestCaseFor,
  createTestUser,
  insertExecution,
  openTestDatabase,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const NOW = new Date("2026-03-01T12:00:00Z");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const ago = (ms: number) => new Date(NOW.getTime() - ms);

const EMPTY: ExecutionStatistics = {
  totalExecutions: 0,
  byStatus: { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 },
  byResult: { pass: 0, fail: 0, error: 0, skip: 0 },
  byBrowser: {},
  byEnvironment: {},
  passRate: 0,
  averageDurationSeconds: null,
  totalDurationHours: 0,
  executionsLast24h: 0,
  executionsLast7d: 0,
  executionsLast30d: 0,
  mostExecutedTests: [],
};

// This test runs first, before the fixture below inserts any execution into the file's database.
describe("an empty database", () => {
  it("answers zeros with every status and result key present", async () => {
    const admin = await createTestUser(h, "admin");
    expect(await executionStatistics(h.db, admin.actor, {}, NOW)).toEqual(EMPTY);
  });
});

describe("executionStatistics over a mixed fixture", () => {
  let memberA: Actor;
  let memberB: Actor;
  let admin: Actor;
  let caseA1: { id: number; title: string };
  let caseA2: { id: number; title: string };
  let caseB1: { id: number; title: string };

  beforeAll(async () => {
    const a = await createTestUser(h, "member", "Member A");
    const b = await createTestUser(h, "member", "Member B");
    memberA = a.actor;
    memberB = b.actor;
    admin = (await createTestUser(h, "admin")).actor;
    caseA1 = await createTestCaseFor(h, memberA, { title: "Login" });
    caseA2 = await createTestCaseFor(h, memberA, { title: "Search" });
    caseB1 = await createTestCaseFor(h, memberB, { title: "Checkout" });

    type Row = [
      number,
      number,
      ExecutionStatus,
      ExecutionResult | null,
      string | null,
      string | null,
      number,
      number | null,
    ];
    // owner, test case, status, result, browser, environment, age, durationSeconds
    const rows: Row[] = [
      [a.id, caseA1.id, "completed", "pass", "chromium", "staging", 2 * HOUR, 30],
      [a.id, caseA1.id, "completed", "fail", "firefox", "staging", 3 * DAY, 90],
      [a.id, caseA1.id, "failed", "error", "chromium", "production", 20 * DAY, 60],
      [a.id, caseA2.id, "running", null, "webkit", null, 2 * HOUR, null],
      [a.id, caseA2.id, "cancelled", "skip", null, "staging", 60 * DAY, 15],
      [a.id, caseA1.id, "completed", "pass", "chromium", null, 60 * DAY, 46],
      [a.id, caseA2.id, "pending", null, "chromium", "staging", 10 * 60 * 1000, null],
      [b.id, caseB1.id, "completed", "pass", "firefox", "production", 1 * HOUR, 120],
      [b.id, caseB1.id, "completed", "pass", "firefox", "production", 5 * DAY, 240],
      [b.id, caseB1.id, "failed", "fail", "chromium", "staging", 40 * DAY, 30],
    ];
    for (const [userId, testCaseId, status, result, browser, environment, age, duration] of rows) {
      await insertExecution(h, {
        userId,
        testCaseId,
        status,
        result,
        browser,
        environment,
        durationSeconds: duration,
        createdAt: ago(age),
      });
    }
  });

  it("computes every figure for one member from their own executions only", async () => {
    expect(await executionStatistics(h.db, memberA, {}, NOW)).toEqual({
      totalExecutions: 7,
      byStatus: { pending: 1, running: 1, completed: 3, failed: 1, cancelled: 1 },
      byResult: { pass: 2, fail: 1, error: 1, skip: 1 },
      byBrowser: { chromium: 4, firefox: 1, webkit: 1, unspecified: 1 },
      byEnvironment: { staging: 4, production: 1, unspecified: 2 },
      // 2 passes of 4 decided (pass + fail + error); skips do not count.
      passRate: 50,
      // (30 + 90 + 60 + 15 + 46) / 5 executions with a duration
      averageDurationSeconds: 48.2,
      // 241 s
      totalDurationHours: 0.0669,
      executionsLast24h: 3,
      executionsLast7d: 4,
      executionsLast30d: 5,
      mostExecutedTests: [
        { testCaseId: caseA1.id, title: "Login", count: 4 },
        { testCaseId: caseA2.id, title: "Search", count: 3 },
      ],
    });
  });

  it("computes the other member's figures, with a pass rate rounded to 2 decimals", async () => {
    expect(await executionStatistics(h.db, memberB, {}, NOW)).toEqual({
      totalExecutions: 3,
      byStatus: { pending: 0, running: 0, completed: 2, failed: 1, cancelled: 0 },
      byResult: { pass: 2, fail: 1, error: 0, skip: 0 },
      byBrowser: { firefox: 2, chromium: 1 },
      byEnvironment: { production: 2, staging: 1 },
      // 2 / 3
      passRate: 66.67,
      // (120 + 240 + 30) / 3
      averageDurationSeconds: 130,
      // 390 s
      totalDurationHours: 0.1083,
      executionsLast24h: 1,
      executionsLast7d: 2,
      executionsLast30d: 2,
      mostExecutedTests: [{ testCaseId: caseB1.id, title: "Checkout", count: 3 }],
    });
  });

  it("computes admin-wide figures over every member's executions", async () => {
    expect(await executionStatistics(h.db, admin, {}, NOW)).toEqual({
      totalExecutions: 10,
      byStatus: { pending: 1, running: 1, completed: 5, failed: 2, cancelled: 1 },
      byResult: { pass: 4, fail: 2, error: 1, skip: 1 },
      byBrowser: { chromium: 5, firefox: 3, webkit: 1, unspecified: 1 },
      byEnvironment: { staging: 5, production: 3, unspecified: 2 },
      // 4 / 7 = 57.142857...
      passRate: 57.14,
      // 631 s / 8 executions with a duration
      averageDurationSeconds: 78.875,
      // 631 s = 0.17527... h
      totalDurationHours: 0.1753,
      executionsLast24h: 4,
      executionsLast7d: 6,
      executionsLast30d: 7,
      // Ties are broken by test case id: Search was created before Checkout.
      mostExecutedTests: [
        { testCaseId: caseA1.id, title: "Login", count: 4 },
        { testCaseId: caseA2.id, title: "Search", count: 3 },
        { testCaseId: caseB1.id, title: "Checkout", count: 3 },
      ],
    });
  });

  it("restricts every figure to one test case", async () => {
    expect(await executionStatistics(h.db, memberA, { testCaseId: caseA1.id }, NOW)).toEqual({
      totalExecutions: 4,
      byStatus: { pending: 0, running: 0, completed: 3, failed: 1, cancelled: 0 },
      byResult: { pass: 2, fail: 1, error: 1, skip: 0 },
      byBrowser: { chromium: 3, firefox: 1 },
      byEnvironment: { staging: 2, production: 1, unspecified: 1 },
      passRate: 50,
      // (30 + 90 + 60 + 46) / 4
      averageDurationSeconds: 56.5,
      // 226 s
      totalDurationHours: 0.0628,
      executionsLast24h: 1,
      executionsLast7d: 2,
      executionsLast30d: 3,
      mostExecutedTests: [{ testCaseId: caseA1.id, title: "Login", count: 4 }],
    });
  });

  it("counts nothing for a member asking about another member's test case", async () => {
    expect(await executionStatistics(h.db, memberA, { testCaseId: caseB1.id }, NOW)).toEqual(EMPTY);
  });

  it("restricts every figure to executions created since a date", async () => {
    const since = ago(7 * DAY).toISOString();
    expect(await executionStatistics(h.db, memberA, { since }, NOW)).toEqual({
      totalExecutions: 4,
      byStatus: { pending: 1, running: 1, completed: 2, failed: 0, cancelled: 0 },
      byResult: { pass: 1, fail: 1, error: 0, skip: 0 },
      byBrowser: { chromium: 2, firefox: 1, webkit: 1 },
      byEnvironment: { staging: 3, unspecified: 1 },
      passRate: 50,
      // (30 + 90) / 2
      averageDurationSeconds: 60,
      // 120 s
      totalDurationHours: 0.0333,
      executionsLast24h: 3,
      executionsLast7d: 4,
      executionsLast30d: 4,
      mostExecutedTests: [
        { testCaseId: caseA1.id, title: "Login", count: 2 },
        { testCaseId: caseA2.id, title: "Search", count: 2 },
      ],
    });
  });

  it("combines the test case and since filters for an admin", async () => {
    const stats = await executionStatistics(
      h.db,
      admin,
      { testCaseId: caseB1.id, since: ago(30 * DAY).toISOString() },
      NOW,
    );
    expect(stats).toMatchObject({
      totalExecutions: 2,
      byStatus: { pending: 0, running: 0, completed: 2, failed: 0, cancelled: 0 },
      byResult: { pass: 2, fail: 0, error: 0, skip: 0 },
      byBrowser: { firefox: 2 },
      passRate: 100,
      averageDurationSeconds: 180,
      totalDurationHours: 0.1,
      mostExecutedTests: [{ testCaseId: caseB1.id, title: "Checkout", count: 2 }],
    });
  });

  it("gives a zero pass rate when no execution has a decided result", async () => {
    const stats = await executionStatistics(h.db, memberA, { testCaseId: caseA2.id }, NOW);
    expect(stats).toMatchObject({
      totalExecutions: 3,
      byResult: { pass: 0, fail: 0, error: 0, skip: 1 },
      passRate: 0,
      averageDurationSeconds: 15,
    });
  });

  it("rejects a since that is not an ISO date-time", async () => {
    await expect(executionStatistics(h.db, admin, { since: "yesterday" })).rejects.toThrow(
      ZodError,
    );
  });
});
