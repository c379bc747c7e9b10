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
  // A month a year and a half ago holds steps: its partition exists before the server starts.
  await database.db.execute(
    sql`select testtrack_ensure_step_partition(now() - interval '540 days')`,
  );
  server = await startServer(
    { ...config, retentionIntervalMs: 200, retentionDays: 365 },
    silentLog,
  );
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

it("creates the coming months' step partitions, and past TESTTRACK_RETENTION_DAYS drops whole months and their executions", async () => {
  const months = async () =>
    (
      await queryRows<{ name: string }>(database, sql`select name from testtrack_step_partitions()`)
    ).map((row) => row.name);
  const ahead = new Date();
  ahead.setUTCDate(1);
  ahead.setUTCMonth(ahead.getUTCMonth() + 3);
  const suffix = (at: Date) =>
    `${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
  expect(await months()).toContain(`test_execution_steps_p${suffix(ahead)}`);

  const maintainer = await createTestPrincipal(database);
  const { caller } = maintainer;
  const testCase = await caller.testCase.create({ title: "From long ago" });
  const ancient = await caller.execution.start({ testCaseId: testCase.id });
  await caller.step.record({
    executionId: ancient.executionId,
    steps: [{ stepNumber: 1, stepDescription: "Open", result: "pass" }],
  });
  const oldMonth = `test_execution_steps_p${suffix(new Date(Date.now() - 540 * 86_400_000))}`;
  // Recorded 540 days ago (its step moves into that month's partition with it).
  await database.db.execute(
    sql`update test_executions set created_at = now() - interval '540 days' where id = ${ancient.executionId}`,
  );
  const deadline = Date.now() + 10_000;
  const gone = async () =>
    !(await months()).includes(oldMonth) &&
    (
      await queryRows(
        database,
        sql`select 1 from test_executions where id = ${ancient.executionId}`,
      )
    ).length === 0;
  while (!(await gone()) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(await gone()).toBe(true);
});
