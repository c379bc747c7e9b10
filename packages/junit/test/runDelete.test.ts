import { createTestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testtrack } from "./fixtures";

describe("testtrack run delete", () => {
  let server: TestServer;
  let env: Record<string, string>;
  let stranger: Awaited<ReturnType<typeof createTestPrincipal>>;

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    stranger = await createTestPrincipal(server.database);
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: token, CI: "" };
  });
  afterAll(async () => {
    await server?.close();
  });

  it("deletes a run with its executions and says how many went", async () => {
    const client = createTestTrackClient({ url: server.url, token: env.TESTTRACK_TOKEN ?? "" });
    const testCase = await client.testCase.create.mutate({ title: "Checkout" });
    const run = await client.run.start.mutate({ key: "cli-delete-build" });
    const { executionId } = await client.execution.start.mutate({
      testCaseId: testCase.id,
      runId: run.id,
    });

    const hidden = await testtrack(["run", "delete", String(run.id)], {
      ...env,
      TESTTRACK_TOKEN: stranger.token,
    });
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toBe(`testtrack: Run ${run.id} was not found (NOT_FOUND)\n`);

    const deleted = await testtrack(["run", "delete", String(run.id)], env);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Deleted run ${run.id} with 1 execution and 0 artifacts\n`);
    await expect(client.execution.get.query({ id: executionId })).rejects.toMatchObject({
      data: { code: "NOT_FOUND" },
    });

    const again = await testtrack(["run", "delete", String(run.id), "--json"], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/NOT_FOUND/);
  });

  it("needs a run id", async () => {
    for (const args of [
      ["run", "delete"],
      ["run", "delete", "build-7"],
    ]) {
      const usage = await testtrack(args, env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toMatch(/^testtrack: run delete needs <run-id>\n/);
    }
  });
});
