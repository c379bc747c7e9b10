import { createHash, randomBytes } from "node:crypto";
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import postgres from "postgres";
import type { z } from "zod";
import type { Actor } from "../src/actor";
import {
  type DatabaseHandle,
  migrationsFolder,
  openDatabase,
  queryRows as rowsOf,
} from "../src/db";
import { startExecution, type startExecutionInput } from "../src/executions";
import { hashPassword } from "../src/passwords";
import { type TestExecution, testExecutions, type UserRole, users } from "../src/schema";
import { createTestCase, type createTestCaseInput } from "../src/testCases";
import { publicUserColumns } from "../src/users";

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
    const handle = openDatabase({ pglite: await migratedPglite() });
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

const TEMPLATE_PREFIX = "testtrack-pglite-template-";

/**
 * An in-memory PGlite holding the migrated schema. A fresh PGlite spends seconds in initdb, so
 * the first one migrated is dumped to a file in the temp folder, keyed by the migrations and the
 * PGlite version, and later test files (in this run or the next) start from that dump instead.
 */
async function migratedPglite(): Promise<PGlite> {
  const name = `${TEMPLATE_PREFIX}${templateKey()}.tar`;
  const template = join(tmpdir(), name);
  if (existsSync(template)) {
    try {
      return await PGlite.create({ loadDataDir: new Blob([readFileSync(template)]) });
    } catch {
      // An unreadable dump is rebuilt below.
    }
  }
  const pglite = await PGlite.create();
  await openDatabase({ pglite }).migrate();
  const dump = await pglite.dumpDataDir("none");
  // Written aside and renamed, so a parallel worker never reads half a file.
  const partial = `${template}.${process.pid}.partial`;
  writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
  renameSync(partial, template);
  // Dumps of older migrations are never read again.
  for (const file of readdirSync(tmpdir())) {
    if (file.startsWith(TEMPLATE_PREFIX) && file.endsWith(".tar") && file !== name) {
      rmSync(join(tmpdir(), file), { force: true });
    }
  }
  return pglite;
}

function templateKey(): string {
  const hash = createHash("sha256");
  const pgliteEntry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
  hash.update(readFileSync(join(dirname(pgliteEntry), "..", "package.json")));
  for (const file of readdirSync(migrationsFolder, { recursive: true, encoding: "utf8" }).sort()) {
    const path = join(migrationsFolder, file);
    if (statSync(path).isFile()) hash.update(file).update(readFileSync(path));
  }
  return hash.digest("hex").slice(0, 16);
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

/** Inserts an execution row directly, bypassing the lifecycle, for tests that need a given state. */
export async function insertExecution(
  handle: Pick<DatabaseHandle, "db">,
  values: Omit<typeof testExecutions.$inferInsert, "id">,
): Promise<TestExecution> {
  const [row] = await handle.db.insert(testExecutions).values(values).returning();
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

/** Rows of a raw SQL query on either engine (PGlite answers `{ rows }`, postgres-js an array). */
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
