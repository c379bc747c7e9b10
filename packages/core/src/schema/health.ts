import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  date,
  doublePrecision,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  varchar,
} from "drizzle-orm/pg-core";
import { projects } from "./projects";
import { runs } from "./runs";
import { testCases } from "./testCases";
import { users } from "./users";

/**
 * Failures grouped by fingerprint (core/src/fingerprint.ts) per project: when the group was
 * first and last seen, in which run first, how often, and one message as a sample.
 */
export const failureGroups = pgTable(
  "failure_groups",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    fingerprint: varchar("fingerprint", { length: 16 }).notNull(),
    sampleMessage: text("sample_message").notNull(),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp("last_seen_at", { withTimezone: true }).notNull().defaultNow(),
    firstRunId: integer("first_run_id").references(() => runs.id, { onDelete: "set null" }),
    occurrences: integer("occurrences").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.fingerprint] }),
    index("failure_groups_recent_idx").on(t.projectId, t.lastSeenAt, t.fingerprint),
  ],
);

export type FailureGroup = typeof failureGroups.$inferSelect;

/**
 * A test in quarantine: it still runs and records, but while the entry applies (no expiry, or
 * an expiry still ahead) its failures count as `quarantined` in a run, not as `failed`.
 */
export const quarantines = pgTable(
  "quarantines",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    reason: varchar("reason", { length: 500 }).notNull(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp("expires_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.testCaseId] }),
    index("quarantines_project_list_idx").on(t.projectId, t.createdAt, t.testCaseId),
  ],
);

/**
 * Per test and day (UTC, of the run's start): its final outcomes in finished runs, rolled up
 * when a run finishes (migration 0020). The default branch's outcomes in the order their runs
 * finished are kept as a count, the pass/fail flips between them, and the first and last of the
 * day (true = passed), so flips across days add up without reading history.
 */
export const testHealthDays = pgTable(
  "test_health_days",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    passed: integer("passed").notNull().default(0),
    failed: integer("failed").notNull().default(0),
    flaky: integer("flaky").notNull().default(0),
    skipped: integer("skipped").notNull().default(0),
    branchOutcomes: integer("branch_outcomes").notNull().default(0),
    branchFlips: integer("branch_flips").notNull().default(0),
    branchFirst: boolean("branch_first"),
    branchLast: boolean("branch_last"),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.testCaseId, t.day] }),
    index("test_health_days_trouble_idx")
      .on(t.projectId, t.day, t.testCaseId)
      .where(sql`${t.failed} > 0 or ${t.flaky} > 0`),
  ],
);

/** Per test and commit: how often its final outcome passed and failed, and when last. */
export const testCommitOutcomes = pgTable(
  "test_commit_outcomes",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    commitSha: varchar("commit_sha", { length: 64 }).notNull(),
    passes: integer("passes").notNull().default(0),
    fails: integer("fails").notNull().default(0),
    lastPassAt: timestamp("last_pass_at", { withTimezone: true }),
    lastFailAt: timestamp("last_fail_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.testCaseId, t.commitSha] }),
    // Commits with both outcomes are flaky evidence, and rare: found without reading the rest.
    index("test_commit_outcomes_both_idx")
      .on(t.projectId, t.testCaseId)
      .where(sql`${t.passes} > 0 and ${t.fails} > 0`),
  ],
);

/**
 * Per test: when first seen and last failed in a finished run, and its last 20 durations on
 * the default branch with their runs (the baseline of duration regressions).
 */
export const testHealthSummary = pgTable(
  "test_health",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull(),
    lastFailureAt: timestamp("last_failure_at", { withTimezone: true }),
    recentRunIds: integer("recent_run_ids").array().notNull().default(sql`'{}'`),
    recentDurations: doublePrecision("recent_durations").array().notNull().default(sql`'{}'`),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.testCaseId] })],
);

/**
 * What happened, for webhooks and anyone following a project: `run.finished`, `test.flaky`
 * (a test first flaky in the window), `test.new_failure` (a failure group first seen in a run).
 * Written in the transaction that causes the event.
 */
export const events = pgTable(
  "events",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    type: varchar("type", { length: 50 }).notNull(),
    runId: integer("run_id"),
    testCaseId: integer("test_case_id"),
    payload: jsonb("payload").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("events_project_idx").on(t.projectId, t.id)],
);

export type Quarantine = typeof quarantines.$inferSelect;
export type ProjectEvent = typeof events.$inferSelect;
