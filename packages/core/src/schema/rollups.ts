import {
  date,
  doublePrecision,
  index,
  integer,
  pgTable,
  primaryKey,
  timestamp,
  varchar,
} from "drizzle-orm/pg-core";
import { projects } from "./projects";
import { testCases } from "./testCases";

/**
 * Per day and project, how many executions had each status, result, browser and environment
 * (dimension 'total' holds all executions and their durations). Kept by a trigger on
 * test_executions in the writing transaction, so statistics read a few hundred rows instead of
 * scanning every execution.
 */
export const executionDailyStats = pgTable(
  "execution_daily_stats",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    dimension: varchar("dimension", { length: 16 }).notNull(),
    value: varchar("value", { length: 50 }).notNull(),
    executions: integer("executions").notNull().default(0),
    durationSum: doublePrecision("duration_sum").notNull().default(0),
    durationCount: integer("duration_count").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.day, t.dimension, t.value] }),
    index("execution_daily_stats_day_idx").on(t.day, t.dimension),
  ],
);

/**
 * Per UTC hour and project, how many executions were created: the 24 h / 7 d / 30 d windows read
 * the hours of their boundary day here, so only the partial hour at the cutoff touches the
 * executions table, whatever the number of executions a day.
 */
export const executionHourlyCounts = pgTable(
  "execution_hourly_counts",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    hour: timestamp("hour", { withTimezone: true, mode: "string" }).notNull(),
    executions: integer("executions").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.hour] }),
    index("execution_hourly_counts_hour_idx").on(t.hour),
  ],
);

/** Per day, project and test case, how many executions ran: the source of mostExecutedTests. */
export const executionDailyTestCases = pgTable(
  "execution_daily_test_cases",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    day: date("day", { mode: "string" }).notNull(),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    executions: integer("executions").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.day, t.testCaseId] }),
    index("execution_daily_test_cases_day_idx").on(t.day),
    index("execution_daily_test_cases_test_case_idx").on(t.testCaseId),
  ],
);

/** All-time totals per project and dimension value: statistics without `since` read only these. */
export const executionTotals = pgTable(
  "execution_totals",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    dimension: varchar("dimension", { length: 16 }).notNull(),
    value: varchar("value", { length: 50 }).notNull(),
    executions: integer("executions").notNull().default(0),
    durationSum: doublePrecision("duration_sum").notNull().default(0),
    durationCount: integer("duration_count").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.dimension, t.value] })],
);

/** All-time executions per project and test case: mostExecutedTests without `since`. */
export const executionTestCaseTotals = pgTable(
  "execution_test_case_totals",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    testCaseId: integer("test_case_id")
      .notNull()
      .references(() => testCases.id, { onDelete: "cascade" }),
    executions: integer("executions").notNull().default(0),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.testCaseId] }),
    index("execution_test_case_totals_count_idx").on(t.executions.desc()),
  ],
);

/**
 * How many executions each project has per combination of status, result, browser and
 * environment (a few thousand rows at most): list totals for any of those filters add these up
 * instead of counting a million rows.
 */
export const executionFilterCounts = pgTable(
  "execution_filter_counts",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    status: varchar("status", { length: 16 }).notNull(),
    result: varchar("result", { length: 16 }).notNull(),
    browser: varchar("browser", { length: 50 }).notNull(),
    environment: varchar("environment", { length: 50 }).notNull(),
    executions: integer("executions").notNull().default(0),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.status, t.result, t.browser, t.environment] })],
);
