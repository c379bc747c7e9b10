import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NotFoundError } from "../src/errors";
import { updateExecution } from "../src/executions";
import { executionStepsSince, listenForSteps, watchStepsInput } from "../src/live";
import { recordSteps, updateStep } from "../src/steps";
import {
  createExecutionScenario,
  createTestUser,
  openTestDatabase,
  rejectionOf,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
let stopListening: () => Promise<void>;
const notified: number[] = [];
beforeAll(async () => {
  h = await openTestDatabase();
  stopListening = await listenForSteps(h, (executionId) => notified.push(executionId));
});
afterAll(async () => {
  await stopListening();
  await h.close();
});

/** Resolves once `executionId` has been notified `count` times in all. */
async function notificationsFor(executionId: number, count: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (notified.filter((id) => id === executionId).length < count) {
    if (Date.now() > deadline) throw new Error(`execution ${executionId} was not notified`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const step = (stepNumber: number) => ({
  stepNumber,
  stepDescription: `step ${stepNumber}`,
  result: "pass" as const,
});

describe("step notifications", () => {
  it("notifies the execution's id when steps are recorded, updated and its status changes", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const recorded = await recordSteps(h.db, actor, { executionId, steps: [step(1)] });
    await notificationsFor(executionId, 1);
    const stepId = recorded.steps[0]?.id ?? 0;
    await updateStep(h.db, actor, { id: stepId, result: "fail" });
    await notificationsFor(executionId, 2);
    await updateExecution(h.db, actor, { id: executionId, status: "completed" });
    await notificationsFor(executionId, 3);
  });

  it("does not notify when the writing transaction rolls back", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    await updateExecution(h.db, actor, { id: executionId, status: "cancelled" });
    await notificationsFor(executionId, 1);
    // A finished execution takes no new steps: the transaction fails and nothing is sent.
    await rejectionOf(recordSteps(h.db, actor, { executionId, steps: [step(1)] }));
    const marker = await createExecutionScenario(h);
    await recordSteps(h.db, marker.actor, { executionId: marker.executionId, steps: [step(1)] });
    await notificationsFor(marker.executionId, 1);
    expect(notified.filter((id) => id === executionId)).toHaveLength(1);
  });
});

describe("executionStepsSince", () => {
  it("returns the steps stored after the cursor in step order, and the next cursor", async () => {
    const { actor, executionId } = await createExecutionScenario(h);
    const first = await executionStepsSince(h.db, actor, executionId, 0);
    expect(first).toMatchObject({ steps: [], cursor: 0, execution: { status: "pending" } });
    // Out of number order: the cursor follows storage order, so step 2 is not skipped.
    await recordSteps(h.db, actor, { executionId, steps: [step(3), step(1)] });
    const second = await executionStepsSince(h.db, actor, executionId, first.cursor);
    expect(second.steps.map((s) => s.stepNumber)).toEqual([1, 3]);
    expect(second.execution).toMatchObject({ status: "running", totalSteps: 2, passedSteps: 2 });
    await recordSteps(h.db, actor, { executionId, steps: [step(2)] });
    const third = await executionStepsSince(h.db, actor, executionId, second.cursor);
    expect(third.steps.map((s) => s.stepNumber)).toEqual([2]);
    const fourth = await executionStepsSince(h.db, actor, executionId, third.cursor);
    expect(fourth).toMatchObject({ steps: [], cursor: third.cursor });
  });

  it("hides another member's execution as NOT_FOUND", async () => {
    const { executionId } = await createExecutionScenario(h);
    const other = await createTestUser(h);
    const error = await rejectionOf(executionStepsSince(h.db, other.actor, executionId, 0));
    expect(error).toBeInstanceOf(NotFoundError);
  });

  it("accepts only event ids it could have sent as lastEventId", () => {
    expect(watchStepsInput.parse({ executionId: 1, lastEventId: "42" }).lastEventId).toBe(42);
    expect(watchStepsInput.safeParse({ executionId: 1, lastEventId: "1; drop" }).success).toBe(
      false,
    );
    expect(watchStepsInput.safeParse({ executionId: 1, lastEventId: "9999999999" }).success).toBe(
      false,
    );
  });
});
