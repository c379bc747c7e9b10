import { relations } from "drizzle-orm";
import { bigint, index, integer, pgTable, text, timestamp, varchar } from "drizzle-orm/pg-core";
import { testExecutions } from "./executions";
import { projects } from "./projects";
import { users } from "./users";

export const ARTIFACT_KINDS = ["screenshot", "video", "trace", "log", "other"] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/**
 * A file attached to an execution (or one of its steps). The bytes live in the artifact store
 * under `storage_key`; deleting a row (directly or by cascade) queues the bytes for deletion in
 * `artifact_deletions` in the same transaction (a trigger, migration 0024).
 */
export const artifacts = pgTable(
  "artifacts",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    executionId: integer("execution_id")
      .notNull()
      .references(() => testExecutions.id, { onDelete: "cascade" }),
    /** The step it belongs to, if any (a number, not a key: steps may be partitioned). */
    stepNumber: integer("step_number"),
    kind: varchar("kind", { length: 20 }).$type<ArtifactKind>().notNull(),
    name: varchar("name", { length: 255 }).notNull(),
    contentType: varchar("content_type", { length: 255 }).notNull(),
    size: bigint("size", { mode: "number" }).notNull(),
    sha256: varchar("sha256", { length: 64 }).notNull(),
    storageKey: varchar("storage_key", { length: 300 }).notNull().unique(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("artifacts_execution_idx").on(t.executionId, t.id),
    index("artifacts_project_idx").on(t.projectId),
    // Artifact retention: a project's artifacts oldest first.
    index("artifacts_project_created_idx").on(t.projectId, t.createdAt),
  ],
);

/**
 * The deletion outbox: bytes to remove from the store once `due_at` passes. Rows come from the
 * delete trigger on artifacts, and from uploads before their first byte (removed again when the
 * artifact row commits), so a crash at any point leaves neither an orphaned object nor a row
 * pointing at missing bytes.
 */
export const artifactDeletions = pgTable(
  "artifact_deletions",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    storageKey: varchar("storage_key", { length: 300 }).notNull(),
    dueAt: timestamp("due_at", { withTimezone: true }).notNull().defaultNow(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("artifact_deletions_due_idx").on(t.dueAt),
    index("artifact_deletions_key_idx").on(t.storageKey),
  ],
);

/** The HMAC key of signed download URLs: one row, shared by every server instance. */
export const artifactUrlKeys = pgTable("artifact_url_keys", {
  id: integer("id").primaryKey(),
  secret: varchar("secret", { length: 100 }).notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const artifactsRelations = relations(artifacts, ({ one }) => ({
  execution: one(testExecutions, {
    fields: [artifacts.executionId],
    references: [testExecutions.id],
  }),
}));
