import { randomBytes } from "node:crypto";
import postgres from "postgres";
import type { z } from "zod";
import type { Actor } from "../src/actor";
import { type DatabaseHandle, openDatabase } from "../src/db";
import { startExecution, type startExecutionInput } from "../src/executions";
import type { UserRole } from "../src/schema";
import { createTestCase, type createTestCaseInput } from "../src/testCases";
import { createUser } from "../src/users";

export type TestEngine = "pglite" | "postgres";

export function testEngine(): TestEngine {
  return process.env.TESTTRACK_TEST_ENGINE === "postgres" ? "postgres" : "pglite";
}

export interface TestDatabase extends DatabaseHandle {
  /** A URL a separate server process can open: only for the postgres engine. */
  url?: string;
}

/**
 * A migrated database of its own for one test file: an in-memory PGlite, or a throwaway
 * database on the TEST_DATABASE_URL server (dropped again by `close`).
 */
export async function openTestDatabase(engine: TestEngine = testEngine()): Promise<TestDatabase> {
  if (engine === "pglite") {
    const handle = openDatabase();
    await handle.migrate();
    return handle;
  }
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) throw new Error("TEST_DATABASE_URL is required for the postgres engine");
  const name = `testtrack_test_${randomBytes(6).toString("hex")}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const handle = openDatabase({ url: url.toString() });
  await handle.migrate();
  return {
    ...handle,
    url: url.toString(),
    close: async () => {
      await handle.close();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}

let userCounter = 0;
export const TEST_PASSWORD = "correct horse battery staple";

export async function createTestUser(
  handle: Pick<DatabaseHandle, "db">,
  role: UserRole = "member",
  name = `${role} ${++userCounter}`,
) {
  const email = `${role}-${randomBytes(5).toString("hex")}@example.test`;
  const user = await createUser(handle.db, { email, name, password: TEST_PASSWORD, role });
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
