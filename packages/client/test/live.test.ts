import {
  createTestPrincipal,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "@testtrack/server/testing";
import { EventSource } from "eventsource";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  createTestTrackClient,
  errorCode,
  type RouterOutputs,
  recordExecution,
} from "../src/index";

type StepsEvent = RouterOutputs["execution"]["onSteps"];

let server: TestServer;
let member: TestPrincipal;
beforeAll(async () => {
  server = await startTestServer();
  member = await createTestPrincipal(server.database);
});
afterAll(() => server.close());

/** Events of `execution.onSteps` through the SDK, and how the subscription ended. */
function follow(token: string, executionId: number) {
  const client = createTestTrackClient({ url: server.url, token, EventSource });
  const events: StepsEvent[] = [];
  const ended = new Promise<{ completed: true } | { error: unknown }>((resolve) => {
    client.execution.onSteps.subscribe(
      { executionId },
      {
        onData: (event) => events.push(event),
        onError: (error) => resolve({ error }),
        onComplete: () => resolve({ completed: true }),
      },
    );
  });
  return { events, ended };
}

async function until(done: () => boolean) {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

it("follows an execution live while the recorder uploads its steps", async () => {
  const runner = createTestTrackClient({ url: server.url, token: member.token });
  const testCase = await runner.testCase.create.mutate({ title: "Live through the SDK" });
  const run = await recordExecution(runner, { testCaseId: testCase.id, batchSize: 2 });
  const live = follow(member.token, run.executionId);
  await until(() => live.events.length > 0);

  run.step({ stepDescription: "Open the page", result: "pass" });
  run.step({ stepDescription: "Sign in", result: "pass" });
  await until(() => live.events.some((event) => event.data.steps.length > 0));
  run.step({ stepDescription: "Pay", result: "fail", errorMessage: "Card declined" });
  await run.finish();

  expect(await live.ended).toEqual({ completed: true });
  const steps = live.events.flatMap((event) => event.data.steps);
  expect(steps.map((step) => step.stepDescription)).toEqual(["Open the page", "Sign in", "Pay"]);
  expect(live.events.at(-1)?.data.execution).toMatchObject({
    status: "completed",
    result: "fail",
    failedSteps: 1,
  });
});

it("ends with NOT_FOUND for another member's execution", async () => {
  const runner = createTestTrackClient({ url: server.url, token: member.token });
  const testCase = await runner.testCase.create.mutate({ title: "Private" });
  const { executionId } = await runner.execution.start.mutate({ testCaseId: testCase.id });
  const stranger = await createTestPrincipal(server.database);
  const outcome = await follow(stranger.token, executionId).ended;
  expect("error" in outcome && errorCode(outcome.error)).toBe("NOT_FOUND");
});
