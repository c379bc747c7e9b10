import { openDatabase, users } from "@testtrack/core";
import { TEST_PASSWORD } from "@testtrack/core/testing";
import { TRPCClientError } from "@trpc/client";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RouterOutputs } from "../src/router";
import {
  createClient,
  createTestPrincipal,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "./fixtures";

type Client = ReturnType<typeof createClient>;
/** What a subscriber receives: the events the subscription yields. */
type StepsEvent =
  RouterOutputs["execution"]["onSteps"] extends AsyncIterable<infer Event> ? Event : never;

let server: TestServer;
/** A second server instance with a database connection of its own (its own pool on PostgreSQL). */
let other: TestServer;
let member: TestPrincipal;
beforeAll(async () => {
  server = await startTestServer();
  const { database } = server;
  const ownHandle = database.url ? openDatabase({ url: database.url }) : database;
  other = await startTestServer({ database: { ...database, ...ownHandle } });
  member = await createTestPrincipal(database);
});
afterAll(async () => {
  await other.close();
  if (server.database.url) await other.database.close();
  await server.close();
});

/** The typed client over real HTTP, subscriptions over server-sent events, as the SDK builds it. */
function sdk(target: TestServer, token: string | undefined): Client {
  return createClient(target.trpcUrl, token);
}

function errorCode(error: unknown): string | undefined {
  return error instanceof TRPCClientError ? error.data?.code : undefined;
}

/** A subscription's events as they arrive, and how it ended. */
function watch(client: Client, input: { executionId: number; lastEventId?: string }) {
  const events: StepsEvent[] = [];
  let ended: (outcome: { completed: true } | { error: unknown }) => void = () => {};
  const end = new Promise<{ completed: true } | { error: unknown }>((resolve) => {
    ended = resolve;
  });
  const subscription = client.execution.onSteps.subscribe(input, {
    onData: (event) => events.push(event),
    onError: (error) => ended({ error }),
    onComplete: () => ended({ completed: true }),
  });
  const until = async (done: (events: StepsEvent[]) => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!done(events)) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(events)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { events, end, until, stop: () => subscription.unsubscribe() };
}

const stepNumbers = (events: StepsEvent[]) =>
  events.flatMap((event) => event.data.steps.map((step) => step.stepNumber));

const step = (stepNumber: number) => ({
  stepNumber,
  stepDescription: `step ${stepNumber}`,
  result: "pass" as const,
});

async function startExecution(client: Client) {
  const testCase = await client.testCase.create.mutate({ title: "Live checkout" });
  const { executionId } = await client.execution.start.mutate({
    testCaseId: testCase.id,
    browser: "chromium",
  });
  return executionId;
}

describe("execution.onSteps", () => {
  it("delivers steps recorded by another client in order, exactly once, then ends", async () => {
    const runner = sdk(server, member.token);
    const executionId = await startExecution(runner);
    const live = watch(sdk(server, member.token), { executionId });
    await live.until((events) => events.length === 1, "the first event");
    expect(live.events[0]?.data).toMatchObject({ execution: { status: "pending" }, steps: [] });

    await runner.step.record.mutate({ executionId, steps: step(1) });
    await live.until((events) => stepNumbers(events).length === 1, "step 1");
    await runner.step.record.mutate({ executionId, steps: [step(2), step(3)] });
    // A retried upload stores nothing new and must not show up again.
    await runner.step.record.mutate({ executionId, steps: [step(2), step(3)] });
    await runner.step.record.mutate({ executionId, steps: [step(4), step(5), step(6)] });
    await runner.execution.update.mutate({ id: executionId, status: "completed" });

    expect(await live.end).toEqual({ completed: true });
    expect(stepNumbers(live.events)).toEqual([1, 2, 3, 4, 5, 6]);
    const last = live.events.at(-1)?.data.execution;
    expect(last).toMatchObject({ status: "completed", result: "pass", totalSteps: 6 });
    // Event ids are the step cursor: they only grow, so a resumed stream skips nothing.
    const ids = live.events.map((event) => Number(event.id));
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("reaches a subscriber on another server instance through the database", async () => {
    const runner = sdk(server, member.token);
    const executionId = await startExecution(runner);
    const live = watch(sdk(other, member.token), { executionId });
    await live.until((events) => events.length === 1, "the first event");
    await runner.step.record.mutate({ executionId, steps: [step(1), step(2)] });
    await live.until((events) => stepNumbers(events).length === 2, "steps 1 and 2");
    await runner.step.record.mutate({ executionId, steps: step(3) });
    await runner.execution.update.mutate({ id: executionId, status: "failed" });
    expect(await live.end).toEqual({ completed: true });
    expect(stepNumbers(live.events)).toEqual([1, 2, 3]);
    expect(live.events.at(-1)?.data.execution.status).toBe("failed");
  });

  it("resumes after lastEventId without repeating a step", async () => {
    const runner = sdk(server, member.token);
    const executionId = await startExecution(runner);
    const first = watch(sdk(server, member.token), { executionId });
    await runner.step.record.mutate({ executionId, steps: [step(1), step(2)] });
    await first.until((events) => stepNumbers(events).length === 2, "steps 1 and 2");
    first.stop();
    const lastEventId = first.events.at(-1)?.id;
    await runner.step.record.mutate({ executionId, steps: step(3) });

    const resumed = watch(sdk(server, member.token), { executionId, lastEventId });
    await resumed.until((events) => stepNumbers(events).length === 1, "step 3");
    await runner.execution.update.mutate({ id: executionId, status: "completed" });
    expect(await resumed.end).toEqual({ completed: true });
    expect(stepNumbers(resumed.events)).toEqual([3]);
  });

  it("sends a finished execution's state once and ends", async () => {
    const runner = sdk(server, member.token);
    const executionId = await startExecution(runner);
    await runner.step.record.mutate({ executionId, steps: step(1) });
    await runner.execution.update.mutate({ id: executionId, status: "completed" });
    const live = watch(sdk(server, member.token), { executionId });
    expect(await live.end).toEqual({ completed: true });
    expect(live.events).toHaveLength(1);
    expect(stepNumbers(live.events)).toEqual([1]);
  });

  it("hides another member's execution as NOT_FOUND", async () => {
    const executionId = await startExecution(sdk(server, member.token));
    const stranger = await createTestPrincipal(server.database);
    const live = watch(sdk(server, stranger.token), { executionId });
    const outcome = await live.end;
    expect("error" in outcome && errorCode(outcome.error)).toBe("NOT_FOUND");
    expect(live.events).toEqual([]);
  });

  it("refuses a subscriber without a token as UNAUTHORIZED", async () => {
    const executionId = await startExecution(sdk(server, member.token));
    const outcome = await watch(sdk(server, undefined), { executionId }).end;
    expect("error" in outcome && errorCode(outcome.error)).toBe("UNAUTHORIZED");
  });

  it("accepts a token in connection params for subscriptions only, never for queries", async () => {
    const params = encodeURIComponent(JSON.stringify({ token: member.token }));
    const answer = await fetch(`${server.trpcUrl}/auth.me?connectionParams=${params}`);
    expect(answer.status).toBe(401);
  });

  it("cuts open streams when the server closes, instead of waiting for them", async () => {
    const host = await startTestServer({ database: server.database });
    const executionId = await startExecution(sdk(server, member.token));
    const live = watch(sdk(host, member.token), { executionId });
    await live.until((events) => events.length === 1, "the first event");
    const started = Date.now();
    await host.close();
    expect(Date.now() - started).toBeLessThan(3_000);
    live.stop();
  });
});

describe("execution.onSteps when access goes away", () => {
  /** Re-checks quiet streams every 100 ms, so revocations show within a test's patience. */
  let checking: TestServer;
  /** Never re-checks by itself within a test: deletions must arrive as notifications. */
  let notified: TestServer;
  beforeAll(async () => {
    checking = await startTestServer({ database: server.database, liveRecheckIntervalMs: 100 });
    notified = await startTestServer({ database: server.database, liveRecheckIntervalMs: 600_000 });
  });
  afterAll(async () => {
    await checking.close();
    await notified.close();
  });

  async function endCode(live: ReturnType<typeof watch>): Promise<string | undefined> {
    const outcome = await Promise.race([
      live.end,
      new Promise<"still open">((resolve) => setTimeout(() => resolve("still open"), 10_000)),
    ]);
    live.stop();
    if (outcome === "still open") return outcome;
    return "error" in outcome ? errorCode(outcome.error) : "completed";
  }

  async function watchedExecution(target: TestServer, watcherToken: string, owner = member) {
    const executionId = await startExecution(sdk(target, owner.token));
    const live = watch(sdk(target, watcherToken), { executionId });
    await live.until((events) => events.length === 1, "the first event");
    return { executionId, live };
  }

  it("ends with UNAUTHORIZED after its session logs out", async () => {
    const user = await createTestPrincipal(server.database);
    const session = await sdk(checking, undefined).auth.login.mutate({
      email: user.email,
      password: TEST_PASSWORD,
    });
    const { executionId, live } = await watchedExecution(checking, session.token, user);
    await sdk(checking, session.token).auth.logout.mutate();
    await sdk(checking, user.token).step.record.mutate({ executionId, steps: step(1) });
    expect(await endCode(live)).toBe("UNAUTHORIZED");
    expect(stepNumbers(live.events)).toEqual([]);
  });

  it("ends with UNAUTHORIZED after its API token is revoked", async () => {
    const user = await createTestPrincipal(server.database);
    const ci = await sdk(checking, user.token).auth.createApiToken.mutate({ name: "watcher" });
    const { live } = await watchedExecution(checking, ci.token, user);
    await sdk(checking, user.token).auth.revokeApiToken.mutate({ id: ci.id });
    expect(await endCode(live)).toBe("UNAUTHORIZED");
  });

  it("ends with UNAUTHORIZED once its token expires", async () => {
    const user = await createTestPrincipal(server.database);
    const expiresAt = new Date(Date.now() + 1_500).toISOString();
    const short = await sdk(checking, user.token).auth.createApiToken.mutate({
      name: "short-lived",
      expiresAt,
    });
    const { live } = await watchedExecution(checking, short.token, user);
    expect(await endCode(live)).toBe("UNAUTHORIZED");
  });

  it("ends with UNAUTHORIZED when its user is deleted", async () => {
    const user = await createTestPrincipal(server.database);
    const admin = await createTestPrincipal(server.database, "admin");
    const { live } = await watchedExecution(checking, user.token, user);
    await sdk(checking, admin.token).user.delete.mutate({ id: user.id });
    expect(await endCode(live)).toBe("UNAUTHORIZED");
  });

  it("ends with NOT_FOUND when an admin watching a member's execution stops being an admin", async () => {
    const admin = await createTestPrincipal(server.database, "admin");
    const { live } = await watchedExecution(checking, admin.token);
    await server.database.db.update(users).set({ role: "member" }).where(eq(users.id, admin.id));
    expect(await endCode(live)).toBe("NOT_FOUND");
  });

  it("ends with NOT_FOUND as soon as the execution is deleted", async () => {
    const { executionId, live } = await watchedExecution(notified, member.token);
    await sdk(notified, member.token).execution.delete.mutate({ id: executionId });
    expect(await endCode(live)).toBe("NOT_FOUND");
  });

  it("ends with NOT_FOUND when the execution goes with its deleted test case", async () => {
    const runner = sdk(notified, member.token);
    const { executionId, live } = await watchedExecution(notified, member.token);
    const execution = await runner.execution.get.query({ id: executionId });
    await runner.testCase.delete.mutate({ id: execution.testCaseId });
    expect(await endCode(live)).toBe("NOT_FOUND");
  });

  it("ends with NOT_FOUND for an admin watching when the owner is deleted", async () => {
    const owner = await createTestPrincipal(server.database);
    const admin = await createTestPrincipal(server.database, "admin");
    const { live } = await watchedExecution(notified, admin.token, owner);
    await sdk(notified, admin.token).user.delete.mutate({ id: owner.id });
    expect(await endCode(live)).toBe("NOT_FOUND");
  });
});
