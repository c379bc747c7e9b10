import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getExecution, recordSteps } from "../src";
import { executionStatistics } from "../src/stats";
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

describe("smoke", () => {
  it("records steps", async () => {
    const u = await createTestUser(h);
    const tc = await createTestCaseFor(h, u.actor);
    const ex = await startExecutionFor(h, u.actor, tc.id);
    const r = await recordSteps(h.db, u.actor, {
      executionId: ex,
      steps: [
        { stepNumber: 1, stepDescription: "a", result: "pass" },
        { stepNumber: 2, stepDescription: "b", result: "fail" },
      ],
    });
    expect(r.summary).toMatchObject({
      totalSteps: 2,
      passedSteps: 1,
      failedSteps: 1,
      result: "fail",
      status: "running",
    });
    const d = await getExecution(h.db, u.actor, { id: ex });
    expect(d.steps).toHaveLength(2);
    const s = await executionStatistics(h.db, u.actor, {});
    console.log(JSON.stringify(s));
    expect(s.totalExecutions).toBe(1);
  });
});
