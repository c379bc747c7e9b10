import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Actor,
  createApiToken,
  createLocalDiskStore,
  type DatabaseHandle,
  type UserRole,
} from "@testtrack/core";
import { createTestUser, openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from "@trpc/client";
import { TRPCError } from "@trpc/server";
import { EventSource } from "eventsource";
import pino from "pino";
import type { ArtifactSettings } from "../src/artifacts";
import { createContext } from "../src/context";
import { createHttpHost } from "../src/http";
import { createStepFeed, type StepFeed } from "../src/live";
import { type AppRouter, appRouter } from "../src/router";
import { createCallerFactory } from "../src/trpc";

export const silentLog = pino({ level: "silent" });

const createCaller = createCallerFactory(appRouter);

export type Caller = ReturnType<typeof createCaller>;

/**
 * A server-side caller acting with `token` (or anonymously), through the real middleware. Each
 * call gets a fresh context, as each HTTP request does, so a token revoked by one call is
 * refused by the next.
 */
export function callerWith(handle: Pick<DatabaseHandle, "db">, token: string | null): Caller {
  const stepFeed = stepFeedOf(handle);
  return createCaller(() =>
    createContext(
      { db: handle.db, log: silentLog, development: false, stepFeed },
      { token, requestId: "test" },
    ),
  );
}

const stepFeeds = new WeakMap<object, StepFeed>();

/** One step feed per database handle that can listen, as the HTTP host has one per process. */
function stepFeedOf(handle: Pick<DatabaseHandle, "db">): StepFeed | undefined {
  const { listen } = handle as Partial<DatabaseHandle>;
  if (!listen) return undefined;
  let feed = stepFeeds.get(handle);
  if (!feed) {
    // Its listener ends when the database closes.
    feed = createStepFeed({ listen }, silentLog);
    stepFeeds.set(handle, feed);
  }
  return feed;
}

/** A caller acting as `actor` with an API token of its own, so revoking it affects nothing else. */
export async function callerAs(handle: Pick<DatabaseHandle, "db">, actor: Actor): Promise<Caller> {
  const { token } = await createApiToken(handle.db, actor, { name: "test" });
  return callerWith(handle, token);
}

/** A user of the given role with an API token, and a caller acting as them. */
export async function createTestPrincipal(
  handle: Pick<DatabaseHandle, "db">,
  role: UserRole = "member",
) {
  const user = await createTestUser(handle, role);
  const { token } = await createApiToken(handle.db, user.actor, { name: "test" });
  return { ...user, token, caller: callerWith(handle, token) };
}

export type TestPrincipal = Awaited<ReturnType<typeof createTestPrincipal>>;

/** Ids of a principal's test case, its running execution with step 1 recorded, and an API token. */
export interface OwnedObjects {
  testCaseId: number;
  executionId: number;
  stepId: number;
  apiTokenId: number;
}

export async function createOwnedObjects(
  principal: Pick<TestPrincipal, "caller">,
): Promise<OwnedObjects> {
  const { caller } = principal;
  const testCase = await caller.testCase.create({
    title: "Checkout with a saved card",
    steps: [{ description: "Open the cart", expectedResult: "The cart shows one item" }],
    tags: ["checkout"],
  });
  const { executionId } = await caller.execution.start({
    testCaseId: testCase.id,
    browser: "chromium",
    environment: "staging",
  });
  const recorded = await caller.step.record({
    executionId,
    steps: { stepNumber: 1, stepDescription: "Open the cart", result: "pass" },
  });
  const apiToken = await caller.auth.createApiToken({ name: "ci runner" });
  const stepId = recorded.steps[0]?.id;
  if (stepId === undefined) throw new Error("step.record returned no step");
  return { testCaseId: testCase.id, executionId, stepId, apiTokenId: apiToken.id };
}

/** "ok" when the call succeeds, otherwise the tRPC error code it failed with. */
export async function outcomeOf<T>(
  call: Promise<T>,
): Promise<{ code: "ok"; value: T } | { code: TRPCError["code"]; message: string }> {
  try {
    return { code: "ok", value: await call };
  } catch (error) {
    if (error instanceof TRPCError) return { code: error.code, message: error.message };
    throw error;
  }
}

/** The typed client over real HTTP, as an SDK user would build it. */
export function createClient(trpcUrl: string, token?: string | null) {
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === "subscription",
        // As @testtrack/client does: server-sent events, the token as a connection param.
        true: httpSubscriptionLink({
          url: trpcUrl,
          EventSource,
          connectionParams: () => (token ? { token } : {}),
        }),
        false: httpBatchLink({
          url: trpcUrl,
          headers: token ? { authorization: `Bearer ${token}` } : {},
        }),
      }),
    ],
  });
}

export interface TestServer {
  url: string;
  trpcUrl: string;
  database: TestDatabase;
  artifacts: ArtifactSettings;
  close(): Promise<void>;
}

/**
 * The real HTTP host on a free port over a fresh test database (a clone of the run's migrated
 * template on the run's PostgreSQL). `close` stops the server and drops the database, unless the
 * database was passed in: then several hosts with different settings share it and `close`
 * stops only this host.
 */
export async function startTestServer(
  options: {
    corsOrigins?: string[];
    maxBodyBytes?: number;
    maxBatchSize?: number;
    development?: boolean;
    database?: TestDatabase;
    /** Serve this built dashboard at `/`. */
    dashboardDir?: string;
    liveRecheckIntervalMs?: number;
    /** The artifact store and limits (default: local disk in a temporary folder, 200 MB, 100). */
    artifacts?: Partial<ArtifactSettings>;
  } = {},
): Promise<TestServer> {
  const ownDatabase = !options.database;
  const database = options.database ?? (await openTestDatabase());
  const artifactDir = options.artifacts?.store
    ? undefined
    : await mkdtemp(join(tmpdir(), "testtrack-artifacts-"));
  const artifacts: ArtifactSettings = {
    store: options.artifacts?.store ?? createLocalDiskStore(artifactDir as string),
    maxBytes: options.artifacts?.maxBytes ?? 200 * 1024 * 1024,
    maxPerExecution: options.artifacts?.maxPerExecution ?? 100,
  };
  const host = createHttpHost(
    {
      port: 0,
      host: "127.0.0.1",
      corsOrigins: options.corsOrigins ?? [],
      maxBodyBytes: options.maxBodyBytes ?? 5 * 1024 * 1024,
      maxBatchSize: options.maxBatchSize ?? 50,
      development: options.development ?? false,
      dashboardDir: options.dashboardDir,
      liveRecheckIntervalMs: options.liveRecheckIntervalMs,
      artifacts,
    },
    database,
    silentLog,
  );
  const url = await host.listen();
  return {
    url,
    trpcUrl: `${url}/trpc`,
    database,
    artifacts,
    close: async () => {
      await host.close();
      if (ownDatabase) await database.close();
      if (artifactDir) await rm(artifactDir, { recursive: true, force: true });
    },
  };
}
