import { randomBytes } from "node:crypto";
import { type SQL, sql } from "drizzle-orm";
import postgres from "postgres";
import { inject } from "vitest";
import type { z } from "zod";
import type { Actor } from "../src/actor";
import { type DatabaseHandle, openDatabase, queryRows as rowsOf } from "../src/db";
import { startExecution, type startExecutionInput } from "../src/executions";
import { hashPassword } from "../src/passwords";
import { type TestExecution, testExecutions, type UserRole, users } from "../src/schema";
import { createTestCase, type createTestCaseInput } from "../src/testCases";
import { publicUserColumns } from "../src/users";
import type { TestServerDatabase } from "./globalSetup";

export interface TestDatabase extends DatabaseHandle {
  /** A URL a separate server process can open. */
  url: string;
}

/**
 * The PostgreSQL server of this test run (TEST_DATABASE_URL, or the embedded one the global setup
 * started) and its migrated template database.
 */
function testServer(): TestServerDatabase {
  const provided = inject("testDatabase");
  if (!provided) {
    throw new Error(
      "no test database: add packages/core/test/globalSetup.ts to this package's vitest globalSetup",
    );
  }
  return provided;
}

/** A URL for `database` on the test run's server. */
export function testDatabaseUrl(database: string): string {
  const url = new URL(testServer().adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * A migrated database of its own for one test file, cloned from the run's template database
 * (milliseconds, where migrating costs a second), dropped again by `close`.
 */
export async function openTestDatabase(): Promise<TestDatabase> {
  const { adminUrl, template } = testServer();
  const name = `testtrack_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await cloneDatabase(admin, template, name);
  const url = testDatabaseUrl(name);
  const handle = openDatabase({ url });
  return {
    ...handle,
    url,
    close: async () => {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

/** CREATE DATABASE ... TEMPLATE, retried while another clone of the template is starting. */
async function cloneDatabase(admin: postgres.Sql, template: string, name: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.unsafe(`create database ${name} template ${template}`);
      return;
    } catch (error) {
      // 55006: "source database is being accessed by other users" (a concurrent clone).
      if ((error as { code?: string }).code !== "55006" || attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 100));
    }
  }
}

let userCounter = 0;
export const TEST_PASSWORD = "correct horse battery staple";

// argon2 costs ~60 ms of CPU per hash; every test user shares one hash of TEST_PASSWORD.
let testPasswordHash: Promise<string> | undefined;

/** A user who can log in with TEST_PASSWORD, with the `actor` domain functions take. */
export async function createTestUser(
  handle: Pick<DatabaseHandle, "db">,
  role: UserRole = "member",
  name = `${role} ${++userCounter}`,
) {
  const email = `${role}-${randomBytes(5).toString("hex")}@example.test`;
  testPasswordHash ??= hashPassword(TEST_PASSWORD);
  const [user] = await handle.db
    .insert(users)
    .values({ email, name, role, passwordHash: await testPasswordHash })
    .returning(publicUserColumns);
  if (!user) throw new Error("user insert returned no row");
  const actor: Actor = { id: user.id, role: user.role };
  return { ...user, actor };
}

export function createTestCaseFor(
  handle: Pick<DatabaseHandle, "db">,
  actor: Actor,
  overrides: Partial<z.input<typeof createTestCaseInput>> = {},
) {
  return createTestCase(handle.db, actor, {
    title: `Checkout flow ${randomBytes(3).toString("hex")}`,
    steps: [{ description: "Open the cart", expectedResult: "The cart shows one item" }],
    tags: ["smoke"],
    ...overrides,
  });
}

export async function startExecutionFor(
  handle: Pick<DatabaseHandle, "db">,
  actor: Actor,
  testCaseId: number,
  overrides: Partial<z.input<typeof startExecutionInput>> = {},
) {
  const started = await startExecution(handle.db, actor, {
    testCaseId,
    browser: "chromium",
    environment: "dev",
    ...overrides,
  });
  return started.executionId;
}

/**
 * Inserts an execution row directly, bypassing the lifecycle, for tests that need a given state.
 * Without `projectId` it goes to its test case's project.
 */
export async function insertExecution(
  handle: Pick<DatabaseHandle, "db">,
  values: Omit<typeof testExecutions.$inferInsert, "id" | "projectId"> & { projectId?: number },
): Promise<TestExecution> {
  const projectId =
    values.projectId ??
    sql<number>`(select project_id from test_cases where id = ${values.testCaseId})`;
  const [row] = await handle.db
    .insert(testExecutions)
    .values({ ...values, projectId })
    .returning();
  if (!row) throw new Error("execution insert returned no row");
  return row;
}

/** A member with one test case and one pending execution of it. */
export async function createExecutionScenario(
  handle: Pick<DatabaseHandle, "db">,
  overrides: Partial<z.input<typeof startExecutionInput>> = {},
) {
  const user = await createTestUser(handle);
  const testCase = await createTestCaseFor(handle, user.actor);
  const executionId = await startExecutionFor(handle, user.actor, testCase.id, overrides);
  return { user, actor: user.actor, testCase, executionId };
}

/** Rows of a raw SQL query. */
export function queryRows<T>(handle: Pick<DatabaseHandle, "db">, query: SQL): Promise<T[]> {
  return rowsOf<T>(handle.db, query);
}

/** The error a promise rejects with; fails the test when it resolves instead. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject, but it resolved");
}
