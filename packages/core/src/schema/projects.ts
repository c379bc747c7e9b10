import {
  index,
  integer,
  pgTable,
  primaryKey,
  timestamp,
  uniqueIndex,
  varchar,
} from "drizzle-orm/pg-core";
import { projectRoleEnum } from "./enums";
import { users } from "./users";

/**
 * What test cases, executions (and later runs, artifacts, webhooks) belong to. Every user has a
 * personal project (`personal_user_id`), created with the user by a trigger (migration 0015).
 */
export const projects = pgTable(
  "projects",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    slug: varchar("slug", { length: 64 }).notNull(),
    name: varchar("name", { length: 200 }).notNull(),
    defaultBranch: varchar("default_branch", { length: 200 }).notNull().default("main"),
    /** Days to keep executions; null keeps them until the instance-wide horizon. */
    retentionDays: integer("retention_days"),
    /**
     * Days to keep the artifacts of passed (and skipped) executions, and of failed (and
     * errored) ones; null keeps them as long as their execution.
     */
    artifactRetentionPassedDays: integer("artifact_retention_passed_days"),
    artifactRetentionFailedDays: integer("artifact_retention_failed_days"),
    personalUserId: integer("personal_user_id").references(() => users.id, {
      onDelete: "cascade",
    }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("projects_slug_key").on(t.slug),
    uniqueIndex("projects_personal_user_key").on(t.personalUserId),
  ],
);

export const projectMembers = pgTable(
  "project_members",
  {
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: projectRoleEnum("role").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.projectId, t.userId] }),
    index("project_members_user_idx").on(t.userId, t.projectId),
  ],
);

export type Project = typeof projects.$inferSelect;
