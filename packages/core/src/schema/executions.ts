import { and, eq, relations, type SQL, sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  alias,
  boolean,
  doublePrecision,
  foreignKey,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { executionResultEnum, executionStatusEnum, triggeredByEnum } from "./enums";
import { projects } from "./projects";
import { runs } from "./runs";
import { testCases } from "./testCases";
import { users } from "./users";

export const testExecutions = pgTable(
  "test_executions",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    /** The project the execution belongs to: always its test case's project. */
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    /** Who recorded it; null once that user is deleted (the result stays with its project). */
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    status: executionStatusEnum("status").notNull().default("pending"),
    result: executionResultEnum("result"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    completedAt: timestamp("completed_at", { withTimezone: true }),
    durationSeconds: doublePrecision("duration_seconds"),
    browser: varchar("browser", { length: 50 }),
    environment: varchar("environment", { length: 50 }),
    baseUrl: varchar("base_url", { length: 500 }),
    totalSteps: integer("total_steps").notNull().default(0),
    passedSteps: integer("passed_steps").notNull().default(0),
    failedSteps: integer("failed_steps").notNull().default(0),
    skippedSteps: integer("skipped_steps").notNull().default(0),
    consoleLog: text("console_log"),
    errorMessage: text("error_message"),
    screenshotPath: varchar("screenshot_path", { length: 500 }),
    videoPath: varchar("video_path", { length: 500 }),
    triggeredBy: triggeredByEnum("triggered_by").notNull().default("manual"),
    triggerDetails: text("trigger_details"),
    /** The CI build this execution belongs to, if any, and which try of the test it is (0 first). */
    runId: integer("run_id").references((): AnyPgColumn => runs.id, { onDelete: "set null" }),
    attempt: integer("attempt").notNull().default(0),
    /** For a failed or errored execution with a message: its failure group (fingerprint.ts). */
    failureFingerprint: varchar("failure_fingerprint", { length: 16 }),
    idempotencyKey: varchar("idempotency_key", { length: 200 }),
    idempotencyFingerprint: varchar("idempotency_fingerprint", { length: 64 }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    // The seed's single-column indexes.
    index("test_executions_test_case_id_idx").on(t.testCaseId),
    index("test_executions_user_id_idx").on(t.userId),
    index("test_executions_status_idx").on(t.status),
    index("test_executions_result_idx").on(t.result),
    index("test_executions_created_at_idx").on(t.createdAt),
    // Newest-first lists (per project, admin-wide, per test case) and per-project statistics,
    // scanned backward: ascending keys read backward give ORDER BY created_at DESC, id DESC
    // exactly (a DESC NULLS LAST index does not match it, so the planner would sort instead).
    // The filter columns trail as keys, so a filtered page is checked in the index and only the
    // rows shown are read from the table, however many the filters pass over.
    index("test_executions_project_list_idx").on(
      t.projectId,
      t.createdAt,
      t.id,
      t.status,
      t.result,
      t.browser,
      t.environment,
    ),
    index("test_executions_list_idx").on(
      t.createdAt,
      t.id,
      t.status,
      t.result,
      t.browser,
      t.environment,
    ),
    index("test_executions_case_list_idx").on(t.testCaseId, t.createdAt, t.id),
    index("test_executions_status_running_idx").on(t.status, t.updatedAt),
    index("test_executions_run_idx").on(t.runId, t.testCaseId, t.attempt),
    index("test_executions_fingerprint_idx")
      .on(t.projectId, t.failureFingerprint)
      .where(sql`${t.failureFingerprint} is not null`),
    // A runner's retries are its own: the key is unique per project and caller.
    uniqueIndex("test_executions_idempotency_key").on(t.projectId, t.userId, t.idempotencyKey),
    // What test_execution_steps' key refers to (migration 0028): its partition key is this row's
    // created_at, enforced, and follows it on update.
    unique("test_executions_id_created_at_key").on(t.id, t.createdAt),
  ],
);

/** The columns of test_execution_steps, shared with the objects that name one of its partitions. */
const stepColumns = {
  id: integer("id").generatedAlwaysAsIdentity(),
  executionId: integer("execution_id").notNull(),
  /**
   * The partition key (migration 0025): the execution's created_at, the moment its recording
   * started. The table is range-partitioned by its month. The foreign key holds it equal to the
   * execution's and carries a change of that along (migration 0028), so reading an execution's
   * steps by its id alone from its month's partition (executionSteps) finds them all.
   */
  executionCreatedAt: timestamp("execution_created_at", { withTimezone: true }).notNull(),
  stepNumber: integer("step_number").notNull(),
  stepDescription: text("step_description").notNull(),
  expectedResult: text("expected_result"),
  result: executionResultEnum("result").notNull(),
  actualResult: text("actual_result"),
  errorMessage: text("error_message"),
  startedAt: timestamp("started_at", { withTimezone: true }),
  completedAt: timestamp("completed_at", { withTimezone: true }),
  durationSeconds: doublePrecision("duration_seconds"),
  screenshotPath: varchar("screenshot_path", { length: 500 }),
  screenshotBefore: varchar("screenshot_before", { length: 500 }),
  screenshotAfter: varchar("screenshot_after", { length: 500 }),
  retryCount: integer("retry_count").notNull().default(0),
  isCritical: boolean("is_critical").notNull().default(false),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
};

export const testExecutionSteps = pgTable(
  "test_execution_steps",
  stepColumns,
  // A partitioned table's keys must hold the partition key. The unique constraint's index also
  // serves lookups by execution in step order; every step of an execution has one key, so
  // (execution_id, step_number) stays unique. The key comes last: two int4 then the timestamptz
  // make 24-byte index entries, where int4, timestamptz, int4 made 32 with alignment padding
  // (migration 0027; a quarter less index to keep in memory).
  (t) => [
    primaryKey({ name: "test_execution_steps_pkey", columns: [t.id, t.executionCreatedAt] }),
    unique("test_execution_steps_execution_step_key").on(
      t.executionId,
      t.stepNumber,
      t.executionCreatedAt,
    ),
    foreignKey({
      name: "test_execution_steps_execution_fk",
      columns: [t.executionId, t.executionCreatedAt],
      foreignColumns: [testExecutions.id, testExecutions.createdAt],
    })
      .onDelete("cascade")
      .onUpdate("cascade"),
  ],
);

/** A timestamptz in UTC as text (ISO), exact to the microsecond (a JS Date is not). */
const utcText = (column: AnyPgColumn) => sql<string>`(${column} at time zone 'UTC')::text`;

/**
 * Read with an execution (its access check): its created_at in UTC as text. It is the steps'
 * partition key, a constant when a statement is planned (stepsOfExecution), and names the
 * partition of its month (partitionOf).
 */
export const partitionKeyOf = utcText(testExecutions.createdAt);

/**
 * Read with one of an execution's steps, through the parent: the partition that holds it, so all
 * of its execution's steps (the default partition included), and their key as partitionKeyOf
 * gives it (stepPartition makes an ExecutionPartition of them). For a transaction, which cannot
 * read again through the parent after a statement on a missing table failed.
 */
export const partitionOfStep = {
  partitionTable: sql<string>`${testExecutionSteps}.tableoid::regclass::text`,
  partitionKey: utcText(testExecutionSteps.executionCreatedAt),
};

/**
 * The partition partitionOfStep read, by name when it is one of ours as search_path finds it
 * (regclass as text is schema-qualified when search_path does not reach it), else the parent.
 */
export function stepPartition(partitionTable: string, partitionKey: string): ExecutionPartition {
  return {
    partitionKey,
    partitionTable: /^test_execution_steps_(p\d{6}|default)$/.test(partitionTable)
      ? partitionTable
      : null,
  };
}

export interface ExecutionPartition {
  partitionKey: string;
  /** Its month's partition; null: read through the parent (with the key). */
  partitionTable: string | null;
}

/**
 * Where the steps of an execution with this key (partitionKeyOf) are: the partition of its UTC
 * month, named as testtrack_ensure_step_partition names them. It may not exist (the steps then
 * wait in the default partition): readSteps (stepReads.ts) reads through the parent then.
 * Without an ISO key (DateStyle is set to ISO on every connection), the parent.
 */
export function partitionOf(partitionKey: string): ExecutionPartition {
  const month = /^(\d{4})-(\d{2})-/.exec(partitionKey);
  return {
    partitionKey,
    partitionTable: month ? `test_execution_steps_p${month[1]}${month[2]}` : null,
  };
}

const partitionTables = new Map<string, typeof testExecutionSteps>();

/** A partition of test_execution_steps by name, aliased as the parent (see executionSteps). */
function partitionTable(name: string): typeof testExecutionSteps {
  let table = partitionTables.get(name);
  if (!table) {
    // Same columns under another table name; the cast only forgets the name in the type.
    table = alias(
      pgTable(name, stepColumns),
      "test_execution_steps",
    ) as unknown as typeof testExecutionSteps;
    partitionTables.set(name, table);
  }
  return table;
}

/** Where one execution's steps are read: the table and the rows' condition. */
export interface ExecutionSteps {
  table: typeof testExecutionSteps;
  where: SQL;
}

/**
 * One execution's steps.
 * - With its partition's name (partitionOf): that partition itself, by execution alone (all
 *   of an execution's steps share its key, so they are all there), aliased as
 *   test_execution_steps so that every condition on testExecutionSteps' columns applies to it.
 *   It is planned like a plain table; through the parent, the planner first expands and prunes
 *   the partitions on every statement (docs/scaling.md, section 4, has the figures). Exact
 *   because the foreign key holds every step's key to its execution's created_at (0028).
 * - Otherwise through the parent, by the key too (stepsOfExecution).
 */
export function executionSteps(
  executionId: number,
  partition?: ExecutionPartition,
): ExecutionSteps {
  return partition?.partitionTable
    ? {
        table: partitionTable(partition.partitionTable),
        where: eq(testExecutionSteps.executionId, executionId),
      }
    : { table: testExecutionSteps, where: stepsOfExecution(executionId, partition) as SQL };
}

/**
 * The rows of one execution's steps, by the partition key too, so only the partition of the
 * execution's month is read. With `partition` (partitionOf, from the caller's access
 * check) the partition is chosen when the statement is planned; without it a subquery finds the
 * key and the other months are pruned at run time, after the planner has planned each of them.
 */
export function stepsOfExecution(executionId: number | SQL, partition?: ExecutionPartition) {
  return and(
    eq(testExecutionSteps.executionId, executionId),
    eq(
      testExecutionSteps.executionCreatedAt,
      partition === undefined
        ? sql`(select ${testExecutions.createdAt} from ${testExecutions} where ${testExecutions.id} = ${executionId})`
        : sql`(${partition.partitionKey}::timestamp at time zone 'UTC')`,
    ),
  );
}

export const testExecutionsRelations = relations(testExecutions, ({ one, many }) => ({
  testCase: one(testCases, { fields: [testExecutions.testCaseId], references: [testCases.id] }),
  user: one(users, { fields: [testExecutions.userId], references: [users.id] }),
  steps: many(testExecutionSteps),
}));

export const testExecutionStepsRelations = relations(testExecutionSteps, ({ one }) => ({
  execution: one(testExecutions, {
    fields: [testExecutionSteps.executionId],
    references: [testExecutions.id],
  }),
}));

export type TestExecution = typeof testExecutions.$inferSelect;
export type TestExecutionStep = typeof testExecutionSteps.$inferSelect;
