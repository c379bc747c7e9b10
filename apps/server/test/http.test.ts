import { type IncomingHttpHeaders, request } from "node:http";
import { createTestUser, TEST_PASSWORD } from "@testtrack/core/testing";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../src/router";
import {
  createClient,
  createOwnedObjects,
  createTestPrincipal,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "./fixtures";

const QA_ORIGIN = "https://qa.example.com";
const ISO_DATE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/** The default production host; the others are hosts with other settings on its database. */
let server: TestServer;
let limited: TestServer;
let dev: TestServer;
/** A host whose database layer throws on every use, as an unexpected bug would. */
let broken: TestServer;
let admin: TestPrincipal;
beforeAll(async () => {
  server = await startTestServer();
  const { database } = server;
  limited = await startTestServer({
    database,
    corsOrigins: [QA_ORIGIN],
    maxBodyBytes: 1024,
    maxBatchSize: 2,
  });
  dev = await startTestServer({ database, development: true });
  const failing = new Proxy(database.db, {
    get() {
      throw new Error("query failed in /srv/secret/db.ts:12");
    },
  });
  broken = await startTestServer({ database: { ...database, db: failing } });
  admin = await createTestPrincipal(database, "admin");
});
afterAll(async () => {
  await limited.close();
  await dev.close();
  await broken.close();
  await server.close();
});

interface WireAnswer {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body is inspected field by field
  body: any;
}

/** One procedure call with plain fetch, as curl or a Python runner would make it. */
async function send(
  target: TestServer,
  procedure: string,
  options: {
    token?: string;
    input?: unknown;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    rawBody?: string;
  } = {},
): Promise<WireAnswer> {
  const method = options.method ?? (options.rawBody !== undefined ? "POST" : "GET");
  const query =
    method === "GET" && options.input !== undefined
      ? `?input=${encodeURIComponent(JSON.stringify(options.input))}`
      : "";
  const response = await fetch(`${target.trpcUrl}/${procedure}${query}`, {
    method,
    headers: {
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
      ...(method === "POST" ? { "content-type": "application/json" } : {}),
      ...options.headers,
    },
    body: method === "POST" ? (options.rawBody ?? JSON.stringify(options.input ?? {})) : undefined,
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, body: JSON.parse(text) };
}

/** Any method, even those fetch refuses to send (TRACE), as a raw HTTP client sends them. */
function rawRequest(base: string, method: string, path: string) {
  return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>(
    (resolve, reject) => {
      const req = request(new URL(path, base), { method }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}

function expectWireError(answer: WireAnswer, status: number, code: string) {
  expect(answer.status).toBe(status);
  expect(answer.body.error.data).toMatchObject({ code, httpStatus: status });
  expect(typeof answer.body.error.message).toBe("string");
}

/** Every key of a JSON value, at any depth. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, inner]) => [key, ...keysOf(inner)]);
  }
  return [];
}

describe("the typed client over HTTP", () => {
  it("creates one test case per key when 8 ensureMany calls with overlapping keys race", async () => {
    const member = await createTestPrincipal(server.database);
    const client = createClient(server.trpcUrl, member.token);
    const keys = Array.from({ length: 60 }, (_, i) => `e2e/checkout.spec.ts › step ${i}`);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, c) =>
        client.testCase.ensureMany.mutate({
          testCases: keys.slice(c * 6, c * 6 + 20).map((key) => ({ key, title: key })),
        }),
      ),
    );
    const idsByKey = new Map<string, Set<number>>();
    for (const answer of answers.flat()) {
      idsByKey.set(answer.key, (idsByKey.get(answer.key) ?? new Set()).add(answer.id));
    }
    expect([...idsByKey.values()].every((ids) => ids.size === 1)).toBe(true);
    const listed = await client.testCase.list.query({ limit: 100 });
    expect(listed.total).toBe(idsByKey.size);
  });

  it("logs in with a password, then works with the session token until logout", async () => {
    const user = await createTestUser(server.database);
    const session = await createClient(server.trpcUrl).auth.login.mutate({
      email: user.email,
      password: TEST_PASSWORD,
    });
    expect(session.user).toEqual({
      id: user.id,
      email: user.email,
      name: user.name,
      role: "member",
    });
    expect(session.expiresAt).toMatch(ISO_DATE);
    const client = createClient(server.trpcUrl, session.token);
    expect((await client.auth.me.query()).id).toBe(user.id);
    await client.auth.logout.mutate();
    await expect(client.auth.me.query()).rejects.toMatchObject({ data: { code: "UNAUTHORIZED" } });
  });

  it("works with an API token created over HTTP until it is revoked", async () => {
    const member = await createTestPrincipal(server.database);
    const client = createClient(server.trpcUrl, member.token);
    const created = await client.auth.createApiToken.mutate({ name: "GitHub Actions" });
    const ci = createClient(server.trpcUrl, created.token);
    expect((await ci.auth.me.query()).id).toBe(member.id);
    const listed = await client.auth.listApiTokens.query();
    expect(listed.map((t) => t.prefix)).toContain(created.prefix);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    await client.auth.revokeApiToken.mutate({ id: created.id });
    const refused = await ci.auth.me.query().catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect(refused).toMatchObject({ data: { code: "UNAUTHORIZED", httpStatus: 401 } });
  });

  it("runs a test case through every namespace", async () => {
    const member = await createTestPrincipal(server.database);
    const client = createClient(server.trpcUrl, member.token);
    const testCase = await client.testCase.create.mutate({
      title: "Login works",
      steps: [{ description: "Enter credentials", expectedResult: "Dashboard opens" }],
      tags: ["smoke"],
    });
    expect(await client.testCase.get.query({ id: testCase.id })).toMatchObject({
      title: "Login works",
    });
    await client.testCase.update.mutate({ id: testCase.id, tags: ["smoke", "auth"] });
    expect((await client.testCase.list.query({ tag: "auth" })).total).toBe(1);

    const started = await client.execution.start.mutate({
      testCaseId: testCase.id,
      browser: "Firefox",
      triggeredBy: "ci_cd",
    });
    expect(started).toMatchObject({ testCaseId: testCase.id, status: "pending" });
    const recorded = await client.step.record.mutate({
      executionId: started.executionId,
      steps: [
        {
          stepNumber: 1,
          stepDescription: "Enter credentials",
          result: "pass",
          startedAt: "2026-03-01T10:00:00.000Z",
        },
        { stepNumber: 2, stepDescription: "Open dashboard", result: "fail" },
      ],
    });
    expect(recorded.summary).toMatchObject({ status: "running", result: "fail", totalSteps: 2 });
    expect(recorded.steps[0]?.startedAt).toBe("2026-03-01T10:00:00.000Z");
    const second = recorded.steps[1];
    if (!second) throw new Error("step 2 was not stored");
    const corrected = await client.step.update.mutate({ id: second.id, result: "pass" });
    expect(corrected.summary.result).toBe("pass");
    expect((await client.step.list.query({ executionId: started.executionId })).length).toBe(2);
    await client.execution.update.mutate({ id: started.executionId, status: "completed" });

    const got = await client.execution.get.query({ id: started.executionId });
    expect(got).toMatchObject({ browser: "firefox", status: "completed", result: "pass" });
    expect(got.createdAt).toMatch(ISO_DATE);
    expect((await client.execution.list.query({ status: "completed" })).total).toBe(1);
    expect((await client.execution.history.query({ testCaseId: testCase.id })).total).toBe(1);
    const stats = await client.stats.get.query();
    expect(stats).toMatchObject({ totalExecutions: 1, byResult: { pass: 1 }, passRate: 100 });
    await expect(client.execution.get.query({ id: 999_999 })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });

    expect(await client.execution.delete.mutate({ id: started.executionId })).toEqual({
      id: started.executionId,
    });
    expect(await client.testCase.delete.mutate({ id: testCase.id })).toEqual({ id: testCase.id });

    const adminClient = createClient(server.trpcUrl, admin.token);
    const created = await adminClient.user.create.mutate({
      email: `wire-${member.id}@example.test`,
      name: "Wire",
      password: TEST_PASSWORD,
    });
    expect(created).not.toHaveProperty("passwordHash");
    expect((await adminClient.user.list.query()).map((u) => u.id)).toContain(created.id);
    expect(await adminClient.user.delete.mutate({ id: created.id })).toEqual({ id: created.id });
  });

  it("sends concurrent calls in one batch and answers each on its own", async () => {
    const member = await createTestPrincipal(server.database);
    const client = createClient(server.trpcUrl, member.token);
    const [me, users, stats] = await Promise.allSettled([
      client.auth.me.query(),
      client.user.list.query(),
      client.stats.get.query(),
    ]);
    expect(me).toMatchObject({ status: "fulfilled", value: { id: member.id } });
    expect(users).toMatchObject({ status: "rejected", reason: { data: { code: "FORBIDDEN" } } });
    expect(stats).toMatchObject({ status: "fulfilled", value: { totalExecutions: 0 } });
  });
});

describe("error codes on the wire", () => {
  it("answers 401 without a token and with an unknown one", async () => {
    const anonymous = await send(server, "auth.me");
    expectWireError(anonymous, 401, "UNAUTHORIZED");
    expect(anonymous.body.error.message).toContain("Authorization: Bearer");
    expectWireError(await send(server, "auth.me", { token: "tt_unknown" }), 401, "UNAUTHORIZED");
  });

  it("answers 404 alike for a missing execution and another member's", async () => {
    const owner = await createTestPrincipal(server.database);
    const other = await createTestPrincipal(server.database);
    const owned = await createOwnedObjects(owner);
    const hidden = await send(server, "execution.get", {
      token: other.token,
      input: { id: owned.executionId },
    });
    const missing = await send(server, "execution.get", {
      token: other.token,
      input: { id: 999_999 },
    });
    expectWireError(hidden, 404, "NOT_FOUND");
    expectWireError(missing, 404, "NOT_FOUND");
    expect(hidden.body.error.message).toBe(`Execution ${owned.executionId} was not found`);
    expect(missing.body.error.message).toBe("Execution 999999 was not found");
  });

  it("answers 400 with the zod issues and their field paths", async () => {
    const member = await createTestPrincipal(server.database);
    const empty = await send(server, "testCase.create", {
      method: "POST",
      token: member.token,
      input: { title: "" },
    });
    expectWireError(empty, 400, "BAD_REQUEST");
    expect(empty.body.error.message).toBe("invalid input: title: must not be empty");
    expect(empty.body.error.data.issues).toEqual([
      { path: ["title"], message: "must not be empty" },
    ]);
    const owned = await createOwnedObjects(member);
    const badStep = await send(server, "step.record", {
      method: "POST",
      token: member.token,
      input: {
        executionId: owned.executionId,
        steps: [{ stepNumber: 2, stepDescription: "x", result: "passed" }],
      },
    });
    expectWireError(badStep, 400, "BAD_REQUEST");
    expect(badStep.body.error.data.issues).toContainEqual(
      expect.objectContaining({ path: ["steps", 0, "result"] }),
    );
  });

  it("answers 400 for a body that is not JSON", async () => {
    const member = await createTestPrincipal(server.database);
    const answer = await send(server, "testCase.create", {
      token: member.token,
      rawBody: "{ not json",
    });
    expectWireError(answer, 400, "BAD_REQUEST");
  });

  it("answers 409 for an invalid lifecycle move such as completed → running", async () => {
    const member = await createTestPrincipal(server.database);
    const owned = await createOwnedObjects(member);
    const update = (status: string) =>
      send(server, "execution.update", {
        method: "POST",
        token: member.token,
        input: { id: owned.executionId, status },
      });
    expect((await update("completed")).status).toBe(200);
    const conflict = await update("running");
    expectWireError(conflict, 409, "CONFLICT");
    expect(conflict.body.error.message).toMatch(/already completed, which is final/);
  });

  it("answers 403 to a member calling an admin procedure", async () => {
    const member = await createTestPrincipal(server.database);
    const answer = await send(server, "user.list", { token: member.token });
    expectWireError(answer, 403, "FORBIDDEN");
    expect(answer.body.error.message).toBe("only an admin can do this");
  });

  it("answers 429 after 5 failed logins for one account", async () => {
    const user = await createTestUser(server.database);
    const attempt = (password: string) =>
      send(server, "auth.login", { method: "POST", input: { email: user.email, password } });
    for (let i = 0; i < 5; i++) expect((await attempt("wrong password")).status).toBe(401);
    const refused = await attempt(TEST_PASSWORD);
    expectWireError(refused, 429, "TOO_MANY_REQUESTS");
    expect(refused.body.error.message).toMatch(/try again in \d+ s/);
  });

  it("checks at most 5 of 50 parallel logins at two instances, and refuses the right password after", async () => {
    const user = await createTestUser(server.database);
    const attempts = Array.from({ length: 50 }, (_, i) =>
      send(i % 2 === 0 ? server : limited, "auth.login", {
        method: "POST",
        input: { email: user.email, password: i === 25 ? TEST_PASSWORD : "wrong password" },
      }),
    );
    const statuses = (await Promise.all(attempts)).map((answer) => answer.status);
    const checked = statuses.filter((status) => status !== 429);
    expect(checked.length).toBeLessThanOrEqual(5);
    expect(checked.every((status) => status === 200 || status === 401)).toBe(true);
    const after = await send(limited, "auth.login", {
      method: "POST",
      input: { email: user.email, password: TEST_PASSWORD },
    });
    expectWireError(after, 429, "TOO_MANY_REQUESTS");
  });

  it("answers 405 with Allow to TRACE, PUT, DELETE and other methods on every path, never 5xx", async () => {
    const paths = [
      ...Object.keys(appRouter._def.procedures).map((name) => `/trpc/${name}`),
      "/trpc",
      "/healthz",
      "/",
      "/executions/1",
    ];
    const methods = ["TRACE", "PUT", "DELETE", "PATCH", "PROPFIND", "MKCOL", "LOCK", "PURGE"];
    const answers: string[] = [];
    for (const path of paths) {
      for (const method of methods) {
        const answer = await rawRequest(server.url, method, path);
        answers.push(`${method} ${path} ${answer.status}`);
        if (answer.status === 405) {
          expect(answer.headers.allow).toMatch(/GET/);
          expect(JSON.parse(answer.body).error.data.code).toBe("METHOD_NOT_SUPPORTED");
        }
      }
    }
    expect(answers.filter((line) => !line.endsWith(" 405"))).toEqual([]);
  });

  it("answers 404 for a procedure that does not exist and for paths outside the API", async () => {
    expectWireError(
      await send(server, "execution.launch", { token: admin.token }),
      404,
      "NOT_FOUND",
    );
    const outside = await fetch(`${server.url}/api/executions`);
    expect(outside.status).toBe(404);
    expect(await outside.json()).toEqual({
      error: "nothing at /api/executions; the API is at /trpc",
    });
  });

  it("answers 413 with an actionable message for a body over maxBodyBytes", async () => {
    const member = await createTestPrincipal(server.database);
    const input = { title: "Too big", description: "x".repeat(2000) };
    const answer = await send(limited, "testCase.create", {
      method: "POST",
      token: member.token,
      input,
    });
    expectWireError(answer, 413, "PAYLOAD_TOO_LARGE");
    expect(answer.body.error.message).toMatch(/too large/);
    const accepted = await send(server, "testCase.create", {
      method: "POST",
      token: member.token,
      input,
    });
    expect(accepted.status).toBe(200);
  });

  it("answers 400 for a batch larger than maxBatchSize", async () => {
    const batch = (size: number) =>
      fetch(`${limited.trpcUrl}/${Array(size).fill("auth.me").join(",")}?batch=1`, {
        headers: { authorization: `Bearer ${admin.token}` },
      });
    const tooMany = await batch(3);
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(await tooMany.json())).toContain("BAD_REQUEST");
    expect((await batch(2)).status).toBe(200);
    expect(
      (
        await fetch(`${server.trpcUrl}/${Array(3).fill("auth.me").join(",")}?batch=1`, {
          headers: { authorization: `Bearer ${admin.token}` },
        })
      ).status,
    ).toBe(200);
  });

  it("answers 500 with a generic message and no internals for an unexpected failure", async () => {
    const answer = await send(broken, "auth.me", { token: admin.token });
    expectWireError(answer, 500, "INTERNAL_SERVER_ERROR");
    expect(answer.body.error.message).toBe(
      "internal server error; the request id in the server log has the details",
    );
    expect(answer.body.error.data.requestId).toBe(answer.headers.get("x-request-id"));
    expect(answer.text).not.toMatch(/secret|stack|\.ts:\d+/);
  });
});

describe("stack traces", () => {
  it("never leave the server when development is off", async () => {
    const member = await createTestPrincipal(server.database);
    const answers = await Promise.all([
      send(server, "auth.me"),
      send(server, "execution.get", { token: member.token, input: { id: 999_999 } }),
      send(server, "testCase.create", { method: "POST", token: member.token, input: {} }),
    ]);
    for (const answer of answers) {
      expect(answer.status).toBeGreaterThanOrEqual(400);
      expect(answer.body.error.data).not.toHaveProperty("stack");
      expect(answer.text).not.toContain("stack");
    }
  });

  it("are included in error answers in development", async () => {
    const answer = await send(dev, "execution.get", { token: admin.token, input: { id: 999_999 } });
    expectWireError(answer, 404, "NOT_FOUND");
    expect(answer.body.error.data.stack).toEqual(expect.stringContaining("Execution 999999"));
  });
});

describe("wire format", () => {
  it("answers plain JSON with camelCase keys and ISO 8601 date strings", async () => {
    const member = await createTestPrincipal(server.database);
    const owned = await createOwnedObjects(member);
    const answer = await send(server, "execution.get", {
      token: member.token,
      input: { id: owned.executionId },
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("application/json");
    const execution = answer.body.result.data;
    expect(execution).toMatchObject({
      id: owned.executionId,
      testCaseId: owned.testCaseId,
      totalSteps: 1,
      passedSteps: 1,
      triggeredBy: "manual",
    });
    expect(execution.createdAt).toMatch(ISO_DATE);
    expect(execution.startedAt).toMatch(ISO_DATE);
    expect(execution.steps[0].createdAt).toMatch(ISO_DATE);
    for (const key of keysOf(execution)) expect(key).toMatch(/^[a-z][a-zA-Z0-9]*$/);
    expect(answer.text).not.toContain('"json"');
  });

  it("accepts a plain JSON mutation body without a transformer", async () => {
    const member = await createTestPrincipal(server.database);
    const owned = await createOwnedObjects(member);
    const answer = await send(server, "execution.start", {
      token: member.token,
      rawBody: JSON.stringify({ testCaseId: owned.testCaseId, browser: "Edge" }),
    });
    expect(answer.status).toBe(200);
    expect(answer.body.result.data).toMatchObject({
      testCaseId: owned.testCaseId,
      status: "pending",
    });
    const stats = await send(server, "stats.get", { token: member.token });
    expect(Object.keys(stats.body.result.data.byStatus).sort()).toEqual([
      "cancelled",
      "completed",
      "failed",
      "pending",
      "running",
    ]);
    expect(stats.body.result.data).toHaveProperty("executionsLast24h", 2);
  });

  it("answers a URL longer than 16 KB with 431 and a message, not a reset connection, body or not", async () => {
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${server.url}/api/v1/executions/${"x".repeat(70_000)}/steps`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ steps: "y".repeat(10_000) }),
      });
      expect(response.status).toBe(431);
      expect(await response.json()).toEqual({
        code: "BAD_REQUEST",
        message: "the URL or headers are longer than 16 KB; send long values in the request body",
      });
    }
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it("answers GET /healthz with status ok", async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ status: "ok" });
  });
});

describe("CORS", () => {
  it("allows a configured origin, preflight included", async () => {
    const simple = await fetch(`${limited.trpcUrl}/auth.me`, {
      headers: { origin: QA_ORIGIN, authorization: `Bearer ${admin.token}` },
    });
    expect(simple.status).toBe(200);
    expect(simple.headers.get("access-control-allow-origin")).toBe(QA_ORIGIN);
    const preflight = await fetch(`${limited.trpcUrl}/execution.start`, {
      method: "OPTIONS",
      headers: {
        origin: QA_ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(QA_ORIGIN);
    expect(preflight.headers.get("access-control-allow-headers")).toContain("authorization");
  });

  it("gives an unknown origin no access-control-allow-origin", async () => {
    for (const target of [limited, server]) {
      const response = await fetch(`${target.trpcUrl}/auth.me`, {
        headers: { origin: "https://evil.example.com", authorization: `Bearer ${admin.token}` },
      });
      expect(response.headers.get("access-control-allow-origin")).toBeNull();
    }
    const qaOnDefault = await fetch(`${server.trpcUrl}/auth.me`, {
      headers: { origin: QA_ORIGIN },
    });
    expect(qaOnDefault.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("request ids", () => {
  it("echoes the caller's x-request-id in the header and in error data", async () => {
    const answer = await send(server, "auth.me", { headers: { "x-request-id": "run-42.step:7" } });
    expect(answer.headers.get("x-request-id")).toBe("run-42.step:7");
    expect(answer.body.error.data.requestId).toBe("run-42.step:7");
    const health = await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "probe-1" } });
    expect(health.headers.get("x-request-id")).toBe("probe-1");
  });

  it("makes up a request id when none or a malformed one is sent", async () => {
    const none = await send(server, "auth.me");
    const malformed = await send(server, "auth.me", {
      headers: { "x-request-id": "no spaces <allowed>" },
    });
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    expect(none.headers.get("x-request-id")).toMatch(uuid);
    expect(malformed.headers.get("x-request-id")).toMatch(uuid);
    expect(malformed.body.error.data.requestId).toBe(malformed.headers.get("x-request-id"));
  });
});
