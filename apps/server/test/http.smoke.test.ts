import { createTRPCClient, httpBatchLink } from "@trpc/client";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { AppRouter } from "../src/router";
import { createTestPrincipal, startTestServer, type TestServer } from "./fixtures";

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

it("starts an execution over HTTP with the typed client", async () => {
  const member = await createTestPrincipal(server.database);
  const client = createTRPCClient<AppRouter>({
    links: [
      httpBatchLink({ url: server.trpcUrl, headers: { authorization: `Bearer ${member.token}` } }),
    ],
  });
  const tc = await client.testCase.create.mutate({ title: "Login works" });
  const started = await client.execution.start.mutate({ testCaseId: tc.id, browser: "Firefox" });
  expect(started.status).toBe("pending");
  const got = await client.execution.get.query({ id: started.executionId });
  expect(got.browser).toBe("firefox");
  expect(typeof got.createdAt).toBe("string");
  await expect(client.execution.get.query({ id: 999999 })).rejects.toMatchObject({
    data: { code: "NOT_FOUND" },
  });
});
