import { randomBytes } from "node:crypto";
import { createTestTrackClient, type RouterOutputs, type TestTrackClient } from "@testtrack/client";
import { CheckFailure } from "./expect";

/** How verify signs in: an account's email and password (auth.login) or an existing token. */
export type Credentials = { email: string; password: string } | { token: string };

export interface Target {
  /** The server's address, e.g. http://127.0.0.1:3000. */
  url: string;
  credentials: Credentials;
}

type User = RouterOutputs["auth"]["me"];

/** What verify created on the server, so the cleanup check can remove all of it. */
export interface CreatedOnServer {
  testCaseIds: number[];
  executionIds: number[];
  projectIds: number[];
  userIds: number[];
  apiTokenIds: number[];
  /** Session tokens from auth.login, signed out at the end. */
  sessions: TestTrackClient[];
}

/** State shared by the checks: later scenarios use what earlier ones created. */
export interface VerifyContext {
  target: Target;
  /** A short random tag put into names, so runs against a shared deployment never collide. */
  runTag: string;
  /** Signed in by the authentication check. */
  admin?: { client: TestTrackClient; user: User };
  testCase?: { id: number; title: string };
  /** The execution of the seed's scenarios 3 to 8. */
  execution?: { id: number };
  created: CreatedOnServer;
}

const REQUEST_TIMEOUT_MS = 30_000;

export function createVerifyContext(target: Target): VerifyContext {
  return {
    target,
    runTag: randomBytes(3).toString("hex"),
    created: {
      testCaseIds: [],
      executionIds: [],
      projectIds: [],
      userIds: [],
      apiTokenIds: [],
      sessions: [],
    },
  };
}

/** A client for the target that gives up on a request after REQUEST_TIMEOUT_MS. */
export function clientFor(url: string, token?: string): TestTrackClient {
  return createTestTrackClient({ url, token, fetch: fetchWithTimeout });
}

const fetchWithTimeout: typeof fetch = (input, init) => {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const signal = init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout;
  return fetch(input, { ...init, signal });
};

/** Signs in with a password and remembers the session so cleanup can sign it out. */
export async function signIn(
  ctx: VerifyContext,
  email: string,
  password: string,
): Promise<{ client: TestTrackClient; user: User }> {
  const anonymous = clientFor(ctx.target.url);
  const session = await anonymous.auth.login.mutate({ email, password });
  const client = clientFor(ctx.target.url, session.token);
  ctx.created.sessions.push(client);
  return { client, user: await client.auth.me.query() };
}

export function requireAdmin(ctx: VerifyContext) {
  if (!ctx.admin) throw new CheckFailure("needs a signed-in admin (authentication failed)");
  return ctx.admin;
}

export function requireTestCase(ctx: VerifyContext) {
  if (!ctx.testCase) throw new CheckFailure("needs the test case (test case setup failed)");
  return ctx.testCase;
}

export function requireExecution(ctx: VerifyContext) {
  if (!ctx.execution) throw new CheckFailure("needs the execution (start execution failed)");
  return ctx.execution;
}

type StartInput = Parameters<TestTrackClient["execution"]["start"]["mutate"]>[0];

/** Starts an execution of the verify test case and remembers it for cleanup. */
export async function startTrackedExecution(
  ctx: VerifyContext,
  input: Omit<StartInput, "testCaseId"> = {},
) {
  const { client } = requireAdmin(ctx);
  const testCase = requireTestCase(ctx);
  const started = await client.execution.start.mutate({ testCaseId: testCase.id, ...input });
  ctx.created.executionIds.push(started.executionId);
  return started;
}
