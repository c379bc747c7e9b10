import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestTrackClient, RecorderError, recordExecution } from "../src/index";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const fastRetry = { retries: 6, minDelayMs: 5, maxDelayMs: 50 };

/** A member with a test case; `client` may use a faulty fetch, `reader` never does. */
async function memberClient(fetchImpl?: typeof fetch) {
  const member = await createTestPrincipal(server.database);
  const reader = createTestTrackClient({ url: server.url, token: member.token });
  const client = createTestTrackClient({
    url: server.url,
    token: member.token,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const testCase = await reader.testCase.create.mutate({ title: "Recorder run" });
  return { member, client, reader, testCase };
}

function recordHundredSteps(run: Awaited<ReturnType<typeof recordExecution>>) {
  for (let i = 1; i <= 100; i++) {
    run.step({
      stepDescription: `step ${i}`,
      result: i % 10 === 0 ? "fail" : i % 7 === 0 ? "skip" : "pass",
      startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(),
      completedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i, 500)).toISOString(),
    });
  }
}

/**
 * A fetch that fails every third request: alternately before sending it (the server never sees
 * it) and after the server answered (the answer is lost, so the retry repeats a stored write).
 */
function flakyFetch() {
  let calls = 0;
  let failures = 0;
  const wrapped: typeof fetch = async (input, init) => {
    calls++;
    if (calls % 3 !== 0) return fetch(input, init);
    failures++;
    if (failures % 2 === 0) await fetch(input, init);
    throw new TypeError("fetch failed: simulated network error");
  };
  return { fetch: wrapped, failures: () => failures };
}

describe("recordExecution", () => {
  it("stores a run of 100 steps completely, with counts, durations and a final status", async () => {
    const { client, testCase } = await memberClient();
    const run = await recordExecution(client, {
      testCaseId: testCase.id,
      browser: "chromium",
      batchSize: 25,
      retry: fastRetry,
    });
    recordHundredSteps(run);
    const finished = await run.finish();
    expect(finished.status).toBe("completed");
    expect(finished.durationSeconds).toBeGreaterThanOrEqual(0);
    const execution = await client.execution.get.query({ id: run.executionId });
    expect(execution.steps.map((s) => s.stepNumber)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
    expect(execution).toMatchObject({
      totalSteps: 100,
      passedSteps: 77,
      failedSteps: 10,
      skippedSteps: 13,
      result: "fail",
    });
    expect(execution.steps[0]?.durationSeconds).toBe(0.5);
  });

  it("stores every step exactly once when every third request fails", async () => {
    const flaky = flakyFetch();
    const { client, reader, testCase } = await memberClient(flaky.fetch);
    const run = await recordExecution(client, {
      testCaseId: testCase.id,
      batchSize: 10,
      retry: fastRetry,
    });
    recordHundredSteps(run);
    await run.finish({ result: "fail" });
    expect(flaky.failures()).toBeGreaterThan(3);

    const execution = await reader.execution.get.query({ id: run.executionId });
    expect(execution.steps).toHaveLength(100);
    expect(new Set(execution.steps.map((s) => s.stepNumber)).size).toBe(100);
    expect(execution).toMatchObject({ totalSteps: 100, status: "completed", result: "fail" });
    // Exactly one execution was created despite retried starts.
    const list = await reader.execution.list.query({ testCaseId: testCase.id });
    expect(list.total).toBe(1);
  });

  it("finish names the steps that were not stored when the server stays down", async () => {
    let down = false;
    const switchable: typeof fetch = (input, init) =>
      down ? Promise.reject(new TypeError("fetch failed: connection refused")) : fetch(input, init);
    const { client, reader, testCase } = await memberClient(switchable);
    const run = await recordExecution(client, {
      testCaseId: testCase.id,
      batchSize: 5,
      retry: { retries: 2, minDelayMs: 1, maxDelayMs: 5 },
    });
    for (let i = 1; i <= 5; i++) run.step({ stepDescription: `stored ${i}`, result: "pass" });
    await run.flush();
    down = true;
    for (let i = 6; i <= 8; i++) run.step({ stepDescription: `lost ${i}`, result: "pass" });
    const error = await run.finish().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RecorderError);
    expect((error as RecorderError).unstoredSteps).toEqual([6, 7, 8]);
    expect((error as RecorderError).message).toContain("steps 6-8 (3 steps) were not stored");
    expect(run.storedSteps).toEqual([1, 2, 3, 4, 5]);
    down = false;
    // Once the server is back, finishing again stores the rest.
    await run.finish();
    const execution = await reader.execution.get.query({ id: run.executionId });
    expect(execution.totalSteps).toBe(8);
    expect(execution.status).toBe("completed");
  });

  it("does not retry a request the server refused as invalid", async () => {
    let calls = 0;
    const counting: typeof fetch = (input, init) => {
      calls++;
      return fetch(input, init);
    };
    const { client } = await memberClient(counting);
    await expect(
      recordExecution(client, { testCaseId: 999_999, retry: fastRetry }),
    ).rejects.toMatchObject({ data: { code: "NOT_FOUND" } });
    expect(calls).toBe(1); // one start, no retries
  });
});
