import { TEST_PASSWORD } from "@testtrack/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  executionPageSchema,
  executionSchema,
  REST_OUTPUTS,
  startedExecutionSchema,
  statisticsSchema,
} from "../src/rest/outputs";
import {
  createOwnedObjects,
  createTestPrincipal,
  type OwnedObjects,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "./fixtures";

let server: TestServer;
let member: TestPrincipal;
let other: TestPrincipal;
let owned: OwnedObjects;
let api: string;

beforeAll(async () => {
  server = await startTestServer();
  api = `${server.url}/api/v1`;
  member = await createTestPrincipal(server.database);
  other = await createTestPrincipal(server.database);
  owned = await createOwnedObjects(member);
  // A second, finished execution, so filters and pages have something to tell apart.
  const { executionId } = await member.caller.execution.start({
    testCaseId: owned.testCaseId,
    browser: "firefox",
    environment: "production",
  });
  await member.caller.execution.update({ id: executionId, status: "running" });
  await member.caller.execution.update({
    id: executionId,
    status: "completed",
    result: "pass",
    durationSeconds: 2.5,
  });
});
afterAll(() => server.close());

/** One REST call with plain fetch, as curl or a Python runner would make it. */
async function call(
  method: string,
  path: string,
  options: { token?: string | null; body?: unknown } = {},
) {
  const token = options.token === undefined ? member.token : options.token;
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${api}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: a JSON body is inspected field by field
  const body: any = text ? JSON.parse(text) : undefined;
  return { status: response.status, headers: response.headers, body };
}

/** What tRPC answers, as it travels on the wire (dates as ISO strings). */
const wire = (value: unknown) => JSON.parse(JSON.stringify(value));

describe("the seed's six REST paths", () => {
  it("GET /executions answers as execution.list, with the seed's query names", async () => {
    const expected = wire(
      await member.caller.execution.list({ testCaseId: owned.testCaseId, limit: 1, skip: 1 }),
    );
    const snake = await call("GET", `/executions?test_case_id=${owned.testCaseId}&limit=1&skip=1`);
    const camel = await call("GET", `/executions?testCaseId=${owned.testCaseId}&limit=1&skip=1`);
    expect(snake.status).toBe(200);
    expect(snake.body).toEqual(expected);
    expect(camel.body).toEqual(expected);
    expect(snake.body.total).toBe(2);
    executionPageSchema.parse(snake.body);

    const filtered = await call(
      "GET",
      "/executions?status=completed&result=pass&browser=firefox&environment=production",
    );
    expect(filtered.body).toEqual(
      wire(
        await member.caller.execution.list({
          status: "completed",
          result: "pass",
          browser: "firefox",
          environment: "production",
        }),
      ),
    );
    expect(filtered.body.items).toHaveLength(1);
  });

  it("GET /executions/stats answers as stats.get", async () => {
    const all = await call("GET", "/executions/stats");
    expect(all.status).toBe(200);
    expect(all.body).toEqual(wire(await member.caller.stats.get()));
    statisticsSchema.parse(all.body);
    const one = await call("GET", `/executions/stats?test_case_id=${owned.testCaseId}`);
    expect(one.body).toEqual(wire(await member.caller.stats.get({ testCaseId: owned.testCaseId })));
    expect(one.body.totalExecutions).toBe(2);
  });

  it("GET /executions/{id} answers as execution.get, steps included", async () => {
    const answer = await call("GET", `/executions/${owned.executionId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(wire(await member.caller.execution.get({ id: owned.executionId })));
    expect(answer.body.steps).toHaveLength(1);
    executionSchema.parse(answer.body);
  });

  it("GET /tests/{id}/executions answers as execution.history", async () => {
    const answer = await call("GET", `/tests/${owned.testCaseId}/executions?limit=1`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual(
      wire(await member.caller.execution.history({ testCaseId: owned.testCaseId, limit: 1 })),
    );
    executionPageSchema.parse(answer.body);
  });

  it("POST /tests/{id}/execute starts an execution as execution.start does", async () => {
    const answer = await call("POST", `/tests/${owned.testCaseId}/execute`, {
      body: { browser: "WebKit", environment: "qa", triggeredBy: "ci_cd" },
    });
    expect(answer.status).toBe(200);
    startedExecutionSchema.parse(answer.body);
    const started = await member.caller.execution.get({ id: answer.body.executionId });
    expect(started).toMatchObject({
      testCaseId: owned.testCaseId,
      browser: "webkit",
      environment: "qa",
      triggeredBy: "ci_cd",
      status: "pending",
    });
    // Without a body too, as `curl -X POST` sends it.
    const bare = await call("POST", `/tests/${owned.testCaseId}/execute`);
    expect(bare.status).toBe(200);
    expect(bare.body.testCaseId).toBe(owned.testCaseId);
  });

  it("DELETE /executions/{id} deletes as execution.delete does", async () => {
    const { executionId } = await member.caller.execution.start({ testCaseId: owned.testCaseId });
    const answer = await call("DELETE", `/executions/${executionId}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ id: executionId });
    expect((await call("GET", `/executions/${executionId}`)).status).toBe(404);
  });
});

describe("REST errors", () => {
  it("answers 401 without a token, with a Bearer challenge", async () => {
    const answer = await call("GET", "/executions", { token: null });
    expect(answer.status).toBe(401);
    expect(answer.headers.get("www-authenticate")).toBe("Bearer");
    expect(answer.body).toMatchObject({ code: "UNAUTHORIZED", message: expect.any(String) });
  });

  it("hides another member's execution as 404, as a missing one", async () => {
    const theirs = await call("GET", `/executions/${owned.executionId}`, { token: other.token });
    const missing = await call("GET", "/executions/2000000000", { token: other.token });
    expect(theirs.status).toBe(404);
    expect(theirs.body.code).toBe("NOT_FOUND");
    expect({ ...theirs.body, requestId: undefined }).toEqual({
      ...missing.body,
      message: theirs.body.message,
      requestId: undefined,
    });
    const deleted = await call("DELETE", `/executions/${owned.executionId}`, {
      token: other.token,
    });
    expect(deleted.status).toBe(404);
  });

  it("answers 400 with the invalid fields' paths", async () => {
    const query = await call("GET", "/executions?limit=0&status=done");
    expect(query.status).toBe(400);
    expect(query.body.code).toBe("BAD_REQUEST");
    const paths = query.body.issues.map((issue: { path: unknown[] }) => issue.path.join("."));
    expect(paths).toEqual(expect.arrayContaining(["limit", "status"]));

    const body = await call("POST", `/executions/${owned.executionId}/steps`, {
      body: { steps: [{ stepNumber: 2, stepDescription: "Pay", result: "maybe" }] },
    });
    expect(body.status).toBe(400);
    expect(body.body.issues).toEqual([
      expect.objectContaining({ path: ["steps", 0, "result"], message: expect.any(String) }),
    ]);
    expect(body.body.message).toContain("steps.0.result");

    const id = await call("GET", "/executions/abc");
    expect(id.status).toBe(400);
    expect(id.body.issues[0].path).toEqual(["id"]);
  });

  it("refuses test_case_id and testCaseId that disagree", async () => {
    const answer = await call("GET", `/executions?test_case_id=1&testCaseId=2`);
    expect(answer.status).toBe(400);
    expect(answer.body.message).toContain("test_case_id");
  });

  it("answers bad JSON, unknown routes and odd methods without a 5xx or a stack", async () => {
    const response = await fetch(`${api}/tests/${owned.testCaseId}/execute`, {
      method: "POST",
      headers: { authorization: `Bearer ${member.token}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(response.status).toBe(400);
    const bad = await response.json();
    expect(bad).toMatchObject({ code: "PARSE_ERROR" });
    expect(JSON.stringify(bad)).not.toContain("at ");

    const unknown = await call("GET", "/nothing/here");
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toContain("openapi.json");

    // Names that are properties of every object are just unknown names.
    for (const name of ["constructor", "__proto__", "toString"]) {
      const odd = await call("GET", `/executions?${name}=1`);
      expect(odd.status, name).toBe(400);
      expect(odd.body.code).toBe("BAD_REQUEST");
    }

    const trace = await fetch(`${api}/executions`, { method: "PROPFIND" });
    expect(trace.status).toBe(405);
  });

  it("reads `false` in a query as false, and leaves /trpc's own validation as it was", async () => {
    // trpc-to-openapi coerces its schemas' numbers; the copies it gets must not reach /trpc.
    await call("GET", "/executions?limit=5");
    await expect(
      member.caller.execution.list({ limit: "5" as unknown as number }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
    await expect(
      member.caller.execution.get({ id: String(owned.executionId) as unknown as number }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST" });
  });
});

describe("the documented answers", () => {
  it("describe what the other documented routes answer", async () => {
    const answers: Record<string, unknown> = {};
    const send = async (procedure: string, method: string, path: string, body?: unknown) => {
      const answer = await call(method, path, { body });
      expect(answer.status, `${procedure}: ${JSON.stringify(answer.body)}`).toBe(200);
      answers[procedure] = answer.body;
      return answer.body;
    };
    await send("auth.me", "GET", "/auth/me");
    const login = await call("POST", "/auth/login", {
      token: null,
      body: { email: member.email, password: TEST_PASSWORD },
    });
    expect(login.status).toBe(200);
    answers["auth.login"] = login.body;
    const created = await send("testCase.create", "POST", "/tests", {
      title: "Refund",
      tags: ["pay"],
    });
    await send("testCase.get", "GET", `/tests/${created.id}`);
    await send("testCase.list", "GET", "/tests?limit=5");
    await send("testCase.update", "PATCH", `/tests/${created.id}`, { title: "Refund a card" });
    await send("testCase.ensure", "POST", "/tests/ensure", {
      key: "shop.py::test_refund",
      title: "refund",
    });
    await send("testCase.ensureMany", "POST", "/tests/ensure-many", {
      testCases: [{ key: "shop.py::test_pay", title: "pay" }],
    });
    const run = await send("run.start", "POST", "/runs", { key: "rest-docs-1", expectedShards: 2 });
    await send("run.list", "GET", "/runs?limit=5");
    await send("run.finishShard", "POST", `/runs/${run.id}/shards/1/finish`, {});
    await send("run.finish", "POST", `/runs/${run.id}/finish`, {});
    const other = await send("run.start", "POST", "/runs", { key: "rest-docs-2" });
    await send("run.cancel", "POST", `/runs/${other.id}/cancel`, {});
    const { executionId } = await send("execution.start", "POST", `/tests/${created.id}/execute`);
    await send("step.record", "POST", `/executions/${executionId}/steps`, {
      steps: [{ stepNumber: 1, stepDescription: "Open", result: "pass" }],
    });
    const steps = await send("step.list", "GET", `/executions/${executionId}/steps`);
    await send("step.update", "PATCH", `/steps/${steps[0].id}`, { actualResult: "opened" });
    await send("execution.update", "PATCH", `/executions/${executionId}`, { status: "running" });
    await send("testCase.delete", "DELETE", `/tests/${created.id}`);

    for (const [procedure, answer] of Object.entries(answers)) {
      const schema = REST_OUTPUTS[procedure];
      if (!schema) throw new Error(`${procedure} has no documented answer`);
      const parsed = schema.safeParse(answer);
      expect(parsed.success, `${procedure}: ${parsed.error?.message}`).toBe(true);
    }
  });
});

describe("the API's document and docs", () => {
  it("serves the OpenAPI document and the docs from the installed Scalar bundle", async () => {
    const document = (await (await fetch(`${api}/openapi.json`)).json()) as { openapi: string };
    expect(document.openapi).toBe("3.1.0");
    const page = await fetch(`${server.url}/api/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const bundle = await fetch(`${server.url}/api/docs/scalar.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
    const init = await (await fetch(`${server.url}/api/docs/init.js`)).text();
    expect(init).toContain('"withDefaultFonts":false');
  });
});
