import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import { projects } from "./projects";
import { users } from "./users";

export const WEBHOOK_EVENTS = ["run.finished", "test.new_failure", "test.flaky"] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
export const WEBHOOK_FORMATS = ["json", "slack"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];
export const DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * Where a project's events are POSTed: JSON signed with the secret, or a Slack incoming-webhook
 * message. `run.finished` may be limited to failed runs and to one branch.
 */
export const webhooks = pgTable(
  "webhooks",
  {
    id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    url: varchar("url", { length: 2000 }).notNull(),
    events: text("events").array().$type<WebhookEvent[]>().notNull(),
    format: varchar("format", { length: 10 }).$type<WebhookFormat>().notNull().default("json"),
    /** HMAC-SHA256 key of the signature header; shown once, never logged. */
    secret: varchar("secret", { length: 100 }).notNull(),
    onlyFailedRuns: boolean("only_failed_runs").notNull().default(false),
    branch: varchar("branch", { length: 200 }),
    enabled: boolean("enabled").notNull().default(true),
    /** Why it was disabled by itself (failing for 3 days), for its maintainers. */
    disabledReason: text("disabled_reason"),
    /** The first failed attempt since the last success. */
    failingSince: timestamp("failing_since", { withTimezone: true }),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("webhooks_project_idx").on(t.projectId, t.id)],
);

/**
 * The outbox: one row per (webhook, event), written in the transaction that caused the event
 * (a trigger on events, migration 0022). Workers claim due rows with FOR UPDATE SKIP LOCKED.
 */
export const webhookDeliveries = pgTable(
  "webhook_deliveries",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    /** X-TestTrack-Delivery: the same on every attempt, so receivers can drop repeats. */
    deliveryId: uuid("delivery_id").notNull().unique().defaultRandom(),
    webhookId: integer("webhook_id")
      .notNull()
      .references(() => webhooks.id, { onDelete: "cascade" }),
    projectId: integer("project_id")
      .notNull()
      .references(() => projects.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" }),
    event: varchar("event", { length: 50 }).notNull(),
    payload: jsonb("payload").notNull(),
    status: varchar("status", { length: 10 }).$type<DeliveryStatus>().notNull().default("pending"),
    attempts: integer("attempts").notNull().default(0),
    nextAttemptAt: timestamp("next_attempt_at", { withTimezone: true }).notNull().defaultNow(),
    /** Claimed by a worker until then; after it, another worker may take it over. */
    claimedUntil: timestamp("claimed_until", { withTimezone: true }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
  },
  (t) => [
    // In claim order, so a claim reads its batch off the front instead of sorting every due row.
    index("webhook_deliveries_due_idx")
      .on(t.nextAttemptAt, t.id)
      .where(sql`${t.status} = 'pending'`),
    index("webhook_deliveries_webhook_idx").on(t.webhookId, t.id),
  ],
);

/** Every attempt of a delivery: its HTTP status or error, duration and the answer's first 1 KB. */
export const webhookAttempts = pgTable(
  "webhook_attempts",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => webhookDeliveries.id, { onDelete: "cascade" }),
    attemptedAt: timestamp("attempted_at", { withTimezone: true }).notNull().defaultNow(),
    statusCode: integer("status_code"),
    durationMs: integer("duration_ms").notNull(),
    error: text("error"),
    response: text("response"),
  },
  (t) => [index("webhook_attempts_delivery_idx").on(t.deliveryId, t.id)],
);

export type Webhook = typeof webhooks.$inferSelect;
export type WebhookDelivery = typeof webhookDeliveries.$inferSelect;
