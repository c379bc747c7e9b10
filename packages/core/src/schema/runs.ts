import { sql } from "drizzle-orm";
import {
  boolean,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { runStatusEnum, testOutcomeEnum } from "./enums";
import { projects } from "./projects";
import { testCases } from "./testCases";

/**
 * One CI build (or local session): every shard and every retry of its jobs joins it by
 * (project, key). Counts are kept by a trigger on test_executions (migration 0016) as
 * executions of the run finish.
 */
export const runs = pgTable(
  "runs",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    key: varchar("key", { length: 200 }).notNull(),
    name: varchar("name", { length: 200 }),
    branch: varchar("branch", { length: 200 }),
    commitSha: varchar("commit_sha", { length: 64 }),
    commitMessage: text("commit_message"),
    pullRequest: varchar("pull_request", { length: 200 }),
    ciProvider: varchar("ci_provider", { length: 50 }),
    ciUrl: varchar("ci_url", { length: 500 }),
    status: runStatusEnum("status").notNull().default("running"),
    expectedShards: integer("expected_shards"),
    /** Tests (test cases) with an outcome in the run, and how many of each outcome. */
    tests: integer("tests").notNull().default(0),
    passed: integer("passed").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    flaky: integer("flaky").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    /** Failed tests that were in quarantine: not in `failed`, so they do not fail the run. */
    quarantined: integer("quarantined").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    /** The last shard join or finished execution: the sweeper times out runs quiet for long. */
    lastActivityAt: timestamp("last_activity_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("runs_project_key").on(t.projectId, t.key),
    index("runs_project_list_idx").on(t.projectId, t.startedAt, t.id),
    index("runs_list_idx").on(t.startedAt, t.id),
    index("runs_project_branch_idx").on(t.projectId, t.branch, t.startedAt),
    index("runs_running_idx").on(t.status, t.lastActivityAt),
    index("runs_project_commit_idx").on(t.projectId, t.commitSha),
  ],
);

/** The shards of a run that joined it, and when each finished. */
export const runShards = pgTable(
  "run_shards",
  {
    runId: integer("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    shard: integer("shard").notNull(),
    /** The highest attempt (CI re-run) of the shard that joined. */
    attempt: integer("attempt").notNull().default(0),
    startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.runId, t.shard] })],
);

/**
 * Each test's outcome in a run: its last attempt's result, `flaky` when an earlier attempt
 * failed and the last passed. Kept by the same trigger as the run's counts.
 */
export const runTests = pgTable(
  "run_tests",
  {
    runId: integer("run_id")
      .notNull()
      .references(() => runs.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    outcome: testOutcomeEnum("outcome").notNull(),
    /** The execution of the last attempt. */
    executionId: integer("execution_id").notNull(),
    attempts: integer("attempts").notNull(),
    durationSeconds: doublePrecision("duration_seconds"),
    /** The test was in quarantine when its outcome was recorded: a failure does not fail the run. */
    quarantined: boolean("quarantined").notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.runId, t.testCaseId] }),
    index("run_tests_outcome_idx").on(t.runId, t.outcome, t.testCaseId),
    // A test's flaky runs (health.flaky's evidence, health.test): few rows, found without a scan.
    index("run_tests_flaky_idx").on(t.testCaseId, t.runId).where(sql`${t.outcome} = 'flaky'`),
  ],
);

export type Run = typeof runs.$inferSelect;
export type RunTest = typeof runTests.$inferSelect;
