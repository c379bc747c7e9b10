import { openTestDatabase, queryRows, type TestDatabase } from "@testtrack/core/testing";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/app";
import { loadConfig } from "../src/config";
import { createTestPrincipal, silentLog } from "./fixtures";

let database: TestDatabase;
let server: RunningServer;
beforeAll(async () => {
  database = await openTestDatabase();
  await createTestPrincipal(database); // a user exists: no admin is generated
  const config = loadConfig({ PORT: "0", LOG_LEVEL: "silent", DATABASE_URL: database.url });
  server = await startServer({ ...config, retentionIntervalMs: 200 }, silentLog);
});
afterAll(async () => {
  await server?.close();
  await database?.close();
});

it("deletes a project's executions past its retentionDays in the background, and keeps the rest", async () => {
  const maintainer = await createTestPrincipal(database);
  const { caller } = maintainer;
  const project = await caller.project.create({ slug: "short-lived", name: "Short lived" });
  await caller.project.update({ id: project.id, retentionDays: 7 });
  const testCase = await caller.testCase.create({ projectId: project.id, title: "Old and new" });
  const old = await caller.execution.start({ testCaseId: testCase.id });
  const recent = await caller.execution.start({ testCaseId: testCase.id });
  await caller.step.record({
    executionId: old.executionId,
    steps: [{ stepNumber: 1, stepDescription: "Open", result: "pass" }],
  });
  await database.db.execute(
    sql`update test_executions set created_at = now() - interval '8 days' where id = ${old.executionId}`,
  );
  const left = async () =>
    (
      await queryRows<{ id: number }>(
        database,
        sql`select id from test_executions where project_id = ${project.id} order by id`,
      )
    ).map((row) => row.id);
  const deadline = Date.now() + 10_000;
  while ((await left()).includes(old.executionId) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await left()).toEqual([recent.executionId]);
});
