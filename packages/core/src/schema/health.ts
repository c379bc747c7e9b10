import { index, integer, pgTable, primaryKey, text, timestamp, varchar } from "drizzle-orm/pg-core";
import { projects } from "./projects";
import { runs } from "./runs";

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
