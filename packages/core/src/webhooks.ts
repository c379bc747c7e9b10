import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, targetProject } from "./actor";
import { type Database, queryRows } from "./db";
import { NotFoundError } from "./errors";
import { cleanText, id, LIMITS, pageDirection, pagination, text } from "./limits";
import {
  DELIVERY_STATUSES,
  type DeliveryStatus,
  type ProjectRole,
  WEBHOOK_EVENTS,
  WEBHOOK_FORMATS,
  type Webhook,
  type WebhookFormat,
} from "./schema";

const webhookUrl = z
  .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
  .max(2000)
  .overwrite(cleanText);
const events = z
  .array(z.enum(WEBHOOK_EVENTS))
  .min(1, "name at least one event")
  .max(WEBHOOK_EVENTS.length)
  .refine((list) => new Set(list).size === list.length, "names an event twice");
const branch = text().trim().min(1).max(LIMITS.name);

export const createWebhookInput = z.strictObject({
  projectId: id.optional(),
  url: webhookUrl,
  events,
  /** `json` (signed) or `slack` (a Slack incoming-webhook message). */
  format: z.enum(WEBHOOK_FORMATS).default("json"),
  /** run.finished only for runs that failed or timed out. */
  onlyFailedRuns: z.boolean().default(false),
  /** run.finished only for runs of this branch. */
  branch: branch.optional(),
});

export const updateWebhookInput = z.strictObject({
  id,
  url: webhookUrl.optional(),
  events: events.optional(),
  format: z.enum(WEBHOOK_FORMATS).optional(),
  onlyFailedRuns: z.boolean().optional(),
  branch: branch.nullable().optional(),
  /** Enabling a webhook the server disabled clears why and starts its failure clock afresh. */
  enabled: z.boolean().optional(),
});

export const webhookIdInput = z.strictObject({ id });

export const listWebhooksInput = z
  .strictObject({
    projectId: id.optional(),
    cursor: id.optional(),
    direction: pageDirection,
    limit: pagination.limit,
  })
  .default({ limit: 50 });

export const listDeliveriesInput = z.strictObject({
  webhookId: id,
  status: z.enum(DELIVERY_STATUSES).optional(),
  /** `nextCursor` of the previous page. */
  cursor: z.number().int().positive().max(Number.MAX_SAFE_INTEGER).optional(),
  direction: pageDirection,
  limit: pagination.limit,
});

export type WebhookView = Omit<Webhook, "secret">;

const VIEW = sql`w.id, w.project_id as "projectId", w.url, w.events, w.format,
  w.only_failed_runs as "onlyFailedRuns", w.branch, w.enabled, w.disabled_reason as "disabledReason",
  w.failing_since as "failingSince", w.created_by as "createdBy", w.created_at as "createdAt",
  w.updated_at as "updatedAt"`;

function viewOf(row: WebhookView): WebhookView {
  return {
    ...row,
    failingSince: row.failingSince ? new Date(row.failingSince) : null,
    createdAt: new Date(row.createdAt),
    updatedAt: new Date(row.updatedAt),
  };
}

/** The webhook, if the actor maintains its project (webhooks hold URLs that are secrets). */
async function managedWebhook(db: Database, actor: Actor, webhookId: number, lock = false) {
  const [row] = await queryRows<WebhookView & { role: ProjectRole | null }>(
    db,
    sql`select ${VIEW}, ${projectRoleSql(actor, sql`w.project_id`)} as role
        from webhooks w where w.id = ${webhookId} ${lock ? sql`for no key update` : sql``}`,
  );
  assertRole(row?.role, NEEDS.manage, "Webhook", webhookId);
  if (!row) throw new NotFoundError("Webhook", webhookId);
  const { role: _role, ...webhook } = row;
  return viewOf(webhook);
}

/** A webhook secret: what receivers verify signatures with. */
const newSecret = () => `whsec_${randomBytes(24).toString("base64url")}`;

/** Creates a webhook (maintainer). Its secret is in this answer only. */
export async function createWebhook(
  db: Database,
  actor: Actor,
  raw: z.input<typeof createWebhookInput>,
): Promise<WebhookView & { secret: string }> {
  const input = createWebhookInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.manage);
  const secret = newSecret();
  const [row] = await queryRows<WebhookView>(
    db,
    sql`insert into webhooks as w (project_id, url, events, format, secret, only_failed_runs, branch, created_by)
        values (${projectId}, ${input.url}, ${`{${input.events.join(",")}}`}::text[], ${input.format},
          ${secret}, ${input.onlyFailedRuns}, ${input.branch ?? null}, ${actor.id})
        returning ${VIEW}`,
  );
  if (!row) throw new Error("webhook insert returned no row");
  return { ...viewOf(row), secret };
}

/** A project's webhooks (maintainer), by id, paged by cursor. */
export async function listWebhooks(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listWebhooksInput>,
): Promise<{ items: WebhookView[]; nextCursor: number | null }> {
  const input = listWebhooksInput.parse(raw);
  const projectId = await targetProject(db, actor, input.projectId, NEEDS.manage);
  const rows = await queryRows<WebhookView>(
    db,
    sql`select ${VIEW} from webhooks w where w.project_id = ${projectId}
        and ${input.cursor ? sql`w.id > ${input.cursor}` : sql`true`}
        order by w.id limit ${input.limit}`,
  );
  const items = rows.map(viewOf);
  const last = items[items.length - 1];
  return { items, nextCursor: items.length === input.limit && last ? last.id : null };
}

export async function updateWebhook(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateWebhookInput>,
): Promise<WebhookView> {
  const input = updateWebhookInput.parse(raw);
  return db.transaction(async (tx) => {
    await managedWebhook(tx, actor, input.id, true);
    const sets = [
      input.url !== undefined ? sql`url = ${input.url}` : undefined,
      input.events !== undefined
        ? sql`events = ${`{${input.events.join(",")}}`}::text[]`
        : undefined,
      input.format !== undefined ? sql`format = ${input.format}` : undefined,
      input.onlyFailedRuns !== undefined
        ? sql`only_failed_runs = ${input.onlyFailedRuns}`
        : undefined,
      input.branch !== undefined ? sql`branch = ${input.branch}` : undefined,
      input.enabled !== undefined ? sql`enabled = ${input.enabled}` : undefined,
      input.enabled ? sql`disabled_reason = null, failing_since = null` : undefined,
      sql`updated_at = now()`,
    ].filter((part) => part !== undefined);
    const [row] = await queryRows<WebhookView>(
      tx,
      sql`update webhooks w set ${sql.join(sets, sql`, `)} where w.id = ${input.id} returning ${VIEW}`,
    );
    if (!row) throw new NotFoundError("Webhook", input.id);
    return viewOf(row);
  });
}

/** Deletes a webhook and its pending deliveries (maintainer). */
export async function deleteWebhook(
  db: Database,
  actor: Actor,
  raw: z.input<typeof webhookIdInput>,
): Promise<{ id: number }> {
  const input = webhookIdInput.parse(raw);
  await managedWebhook(db, actor, input.id);
  await db.execute(sql`delete from webhooks where id = ${input.id}`);
  return { id: input.id };
}

/** Queues a `ping` delivery to the webhook now, to check the receiver (maintainer). */
export async function testWebhook(
  db: Database,
  actor: Actor,
  raw: z.input<typeof webhookIdInput>,
): Promise<{ deliveryId: string }> {
  const input = webhookIdInput.parse(raw);
  const webhook = await managedWebhook(db, actor, input.id);
  const [row] = await queryRows<{ delivery_id: string }>(
    db,
    sql`insert into webhook_deliveries (webhook_id, project_id, event, payload)
        values (${webhook.id}, ${webhook.projectId}, 'ping',
          ${JSON.stringify({ webhookId: webhook.id, message: "TestTrack webhook test" })}::jsonb)
        returning delivery_id`,
  );
  if (!row) throw new Error("delivery insert returned no row");
  return { deliveryId: row.delivery_id };
}

export interface DeliveryView {
  id: number;
  deliveryId: string;
  event: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: Date | null;
  createdAt: Date;
  finishedAt: Date | null;
  /** Newest first: status code or error, duration, the answer's first 1 KB. */
  log: {
    attemptedAt: Date;
    statusCode: number | null;
    durationMs: number;
    error: string | null;
    response: string | null;
  }[];
}

/** A webhook's deliveries, newest first, each with its attempts (maintainer). */
export async function listDeliveries(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listDeliveriesInput>,
): Promise<{ items: DeliveryView[]; nextCursor: number | null }> {
  const input = listDeliveriesInput.parse(raw);
  await managedWebhook(db, actor, input.webhookId);
  const rows = await queryRows<{
    id: number;
    delivery_id: string;
    event: string;
    status: DeliveryStatus;
    attempts: number;
    next_attempt_at: Date;
    created_at: Date;
    finished_at: Date | null;
    log: DeliveryView["log"] | null;
  }>(
    db,
    sql`select d.id, d.delivery_id, d.event, d.status, d.attempts, d.next_attempt_at, d.created_at,
          d.finished_at,
          (select json_agg(json_build_object('attemptedAt', a.attempted_at, 'statusCode', a.status_code,
             'durationMs', a.duration_ms, 'error', a.error, 'response', a.response) order by a.id desc)
           from webhook_attempts a where a.delivery_id = d.id) as log
        from webhook_deliveries d
        where d.webhook_id = ${input.webhookId}
          and ${input.status ? sql`d.status = ${input.status}` : sql`true`}
          and ${input.cursor ? sql`d.id < ${input.cursor}` : sql`true`}
        order by d.id desc limit ${input.limit}`,
  );
  const items = rows.map((row) => ({
    id: Number(row.id),
    deliveryId: row.delivery_id,
    event: row.event,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === "pending" ? new Date(row.next_attempt_at) : null,
    createdAt: new Date(row.created_at),
    finishedAt: row.finished_at ? new Date(row.finished_at) : null,
    log: (row.log ?? []).map((entry) => ({ ...entry, attemptedAt: new Date(entry.attemptedAt) })),
  }));
  const last = items[items.length - 1];
  return { items, nextCursor: items.length === input.limit && last ? last.id : null };
}

// ---------------------------------------------------------------------------------------------
// Delivery: what the worker claims, signs, sends and records.

/** A delivery a worker holds, with what sending it needs. */
export interface ClaimedDelivery {
  id: number;
  deliveryId: string;
  webhookId: number;
  projectId: number;
  event: string;
  payload: Record<string, unknown>;
  attempts: number;
  createdAt: Date;
  url: string;
  secret: string;
  format: WebhookFormat;
}

/**
 * Claims up to `limit` due deliveries for `claimMs`: `FOR UPDATE SKIP LOCKED`, so workers on any
 * number of instances never take the same one, and a worker that dies lets its claims lapse.
 */
export async function claimDeliveries(
  db: Database,
  options: { limit: number; claimMs: number },
): Promise<ClaimedDelivery[]> {
  const rows = await queryRows<{
    id: number;
    delivery_id: string;
    webhook_id: number;
    project_id: number;
    event: string;
    payload: Record<string, unknown>;
    attempts: number;
    created_at: Date;
    url: string;
    secret: string;
    format: WebhookFormat;
  }>(
    db,
    sql`with due as (
          select d.id from webhook_deliveries d
          where d.status = 'pending' and d.next_attempt_at <= now()
            and (d.claimed_until is null or d.claimed_until < now())
            -- A disabled webhook's deliveries wait: enabling it again sends them.
            and exists (select 1 from webhooks w where w.id = d.webhook_id and w.enabled)
          order by d.next_attempt_at, d.id
          limit ${options.limit}
          for update skip locked)
        update webhook_deliveries d
        set claimed_until = now() + ${options.claimMs} * interval '1 millisecond', attempts = d.attempts + 1
        from due, webhooks w
        where d.id = due.id and w.id = d.webhook_id
        returning d.id, d.delivery_id, d.webhook_id, d.project_id, d.event, d.payload, d.attempts,
          d.created_at, w.url, w.secret, w.format`,
  );
  return rows.map((row) => ({
    id: Number(row.id),
    deliveryId: row.delivery_id,
    webhookId: row.webhook_id,
    projectId: row.project_id,
    event: row.event,
    payload: row.payload,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
    url: row.url,
    secret: row.secret,
    format: row.format,
  }));
}

/** How an attempt ended, as the worker saw it. */
export interface AttemptOutcome {
  statusCode?: number;
  durationMs: number;
  error?: string;
  /** The first 1 KB of the answer. */
  response?: string;
  /** Retry-After, when the receiver said when to come back. */
  retryAfterMs?: number;
}

/** Retry delays after each failed attempt: about 1 min, 5 min, 30 min, 2 h, 6 h, then failed. */
export const WEBHOOK_RETRY_DELAYS_MS = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000];
/** A webhook whose deliveries fail for this long is disabled. */
export const WEBHOOK_DISABLE_AFTER_MS = 3 * 24 * 3_600_000;

/** What to do after an attempt: done, again later, or give up. */
export function nextStep(
  outcome: AttemptOutcome,
  attempts: number,
  delaysMs: readonly number[] = WEBHOOK_RETRY_DELAYS_MS,
  random: () => number = Math.random,
): { status: "delivered" | "failed" } | { status: "pending"; delayMs: number } {
  const code = outcome.statusCode;
  if (code !== undefined && code >= 200 && code < 300) return { status: "delivered" };
  // Redirects are not followed (they could lead anywhere, this machine included).
  if (code !== undefined && code >= 300 && code < 400) return { status: "failed" };
  // A refusal other than "too many requests" will not change by asking again.
  if (code !== undefined && code >= 400 && code < 500 && code !== 429) return { status: "failed" };
  const delay = delaysMs[attempts - 1];
  if (delay === undefined) return { status: "failed" };
  // ±20 % jitter, so receivers coming back from an outage are not hit by every retry at once.
  const jittered = Math.round(delay * (0.8 + random() * 0.4));
  return { status: "pending", delayMs: Math.max(outcome.retryAfterMs ?? 0, jittered) };
}

/**
 * Records an attempt and moves the delivery on (delivered, again later, failed) and releases
 * its claim. A webhook failing since more than 3 days is disabled, with the reason.
 */
export async function recordAttempt(
  db: Database,
  delivery: ClaimedDelivery,
  outcome: AttemptOutcome,
  options: { delaysMs?: readonly number[]; disableAfterMs?: number } = {},
): Promise<"delivered" | "pending" | "failed"> {
  const step = nextStep(outcome, delivery.attempts, options.delaysMs);
  const disableAfter = options.disableAfterMs ?? WEBHOOK_DISABLE_AFTER_MS;
  await db.transaction(async (tx) => {
    // The webhook's row first, as webhook.delete takes it before its deliveries (by cascade): in
    // the other order a delete during an attempt deadlocked with it (and answered CONFLICT).
    const [webhook] = await queryRows<{ id: number }>(
      tx,
      sql`select id from webhooks where id = ${delivery.webhookId} for no key update`,
    );
    // Deleted meanwhile, with its deliveries: nothing is left to record.
    if (!webhook) return;
    await tx.execute(
      sql`insert into webhook_attempts (delivery_id, status_code, duration_ms, error, response)
          values (${delivery.id}, ${outcome.statusCode ?? null}, ${Math.round(outcome.durationMs)},
            ${outcome.error?.slice(0, 1000) ?? null}, ${outcome.response?.slice(0, 1024) ?? null})`,
    );
    await tx.execute(
      step.status === "pending"
        ? sql`update webhook_deliveries set claimed_until = null,
              next_attempt_at = now() + ${step.delayMs} * interval '1 millisecond'
            where id = ${delivery.id}`
        : sql`update webhook_deliveries set claimed_until = null, status = ${step.status}, finished_at = now()
            where id = ${delivery.id}`,
    );
    await tx.execute(
      step.status === "delivered"
        ? sql`update webhooks set failing_since = null where id = ${delivery.webhookId} and failing_since is not null`
        : sql`update webhooks set failing_since = coalesce(failing_since, now()),
              enabled = case when failing_since < now() - ${disableAfter} * interval '1 millisecond' then false else enabled end,
              disabled_reason = case when enabled and failing_since < now() - ${disableAfter} * interval '1 millisecond'
                then 'disabled by TestTrack: its deliveries failed for ' || round(${disableAfter} / 3600000.0) ||
                  ' hours (last: ' || ${describe(outcome)} || ')'
                else disabled_reason end
            where id = ${delivery.webhookId}`,
    );
  });
  return step.status;
}

function describe(outcome: AttemptOutcome): string {
  return outcome.statusCode !== undefined
    ? `HTTP ${outcome.statusCode}`
    : (outcome.error ?? "no answer").slice(0, 200);
}

/** `X-TestTrack-Signature`: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export function signPayload(secret: string, body: string, unixSeconds: number): string {
  const digest = createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
  return `t=${unixSeconds},v1=${digest}`;
}

/** Checks a signature header against the body, refusing ones older than `toleranceSeconds`. */
export function verifySignature(
  secret: string,
  body: string,
  header: string,
  options: { toleranceSeconds?: number; now?: number } = {},
): boolean {
  const parts = Object.fromEntries(header.split(",").map((part) => part.split("=", 2)));
  const t = Number(parts.t);
  if (!Number.isInteger(t) || typeof parts.v1 !== "string") return false;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (Math.abs(now - t) > (options.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signPayload(secret, body, t).split("v1=")[1] ?? "", "hex");
  const given = Buffer.from(parts.v1, "hex");
  return expected.length === given.length && timingSafeEqual(expected, given);
}

// ---------------------------------------------------------------------------------------------
// Where deliveries may go: never to this machine, the private network or cloud metadata.

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const) {
  blocked.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["64:ff9b::", 96],
  ["100::", 64],
  ["2001:db8::", 32],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
] as const) {
  blocked.addSubnet(network, prefix, "ipv6");
}

/**
 * Whether a webhook may be sent to this IP address: a public unicast address, not loopback,
 * private, link-local (cloud metadata), shared, documentation, multicast or reserved, in IPv4
 * or IPv6, IPv4-mapped IPv6 forms included.
 */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return !blocked.check(mapped[1], "ipv4");
  return !blocked.check(address, family === 4 ? "ipv4" : "ipv6");
}

// ---------------------------------------------------------------------------------------------
// What is sent.

/** Slack's block-kit limits: blocks per message, characters per text. */
export const SLACK_MAX_BLOCKS = 50;
export const SLACK_MAX_TEXT = 3000;

const cut = (value: string, max = SLACK_MAX_TEXT) =>
  value.length > max ? `${value.slice(0, max - 1)}…` : value;
/** Slack mrkdwn: &, < and > are control characters. */
const escapeSlack = (value: string) =>
  value.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export interface RunFinishedExtras {
  /** Failed tests of the run (not quarantined), the first of them. */
  failedTests: { testCaseId: number; title: string }[];
  newFailureGroups: number;
}

/**
 * A Slack incoming-webhook message (`{ text, blocks }`) for an event, within Slack's limits:
 * the run's verdict and counts, its failed tests and new failure groups, and a link.
 */
export function slackMessage(
  event: string,
  payload: Record<string, unknown>,
  links: { dashboardUrl: string },
  extras?: RunFinishedExtras,
): { text: string; blocks: unknown[] } {
  const base = links.dashboardUrl.replace(/\/+$/, "");
  const str = (key: string) => (typeof payload[key] === "string" ? (payload[key] as string) : "");
  const num = (key: string) => (typeof payload[key] === "number" ? (payload[key] as number) : 0);
  const section = (markdown: string) => ({
    type: "section",
    text: { type: "mrkdwn", text: cut(markdown) },
  });
  let text: string;
  const blocks: unknown[] = [];
  if (event === "run.finished") {
    const name = escapeSlack(cut(str("name") || str("key"), 200));
    const link = `${base}/runs/${num("runId")}`;
    text = `TestTrack: run ${name} ${str("status")}: ${num("failed")} failed, ${num("flaky")} flaky, ${num("passed")} passed of ${num("tests")}`;
    blocks.push(
      section(
        `*<${link}|Run ${name}>* ${str("status") === "passed" ? "passed" : `*${str("status")}*`}` +
          (str("branch") ? ` on \`${escapeSlack(str("branch"))}\`` : "") +
          (str("commitSha") ? ` (${escapeSlack(str("commitSha").slice(0, 7))})` : ""),
      ),
      section(
        `${num("tests")} tests: ${num("passed")} passed, ${num("failed")} failed, ${num("flaky")} flaky, ` +
          `${num("skipped")} skipped${num("quarantined") > 0 ? `, ${num("quarantined")} quarantined` : ""}` +
          (extras && extras.newFailureGroups > 0
            ? ` · ${extras.newFailureGroups} new failure group${extras.newFailureGroups === 1 ? "" : "s"}`
            : ""),
      ),
    );
    if (extras && extras.failedTests.length > 0) {
      // Whole lines only (a cut link breaks the message), with room kept for "…and N more".
      let listed = "*Failed*";
      let shown = 0;
      for (const test of extras.failedTests) {
        const line = `\n• <${base}/test-cases/${test.testCaseId}|${escapeSlack(cut(test.title, 200))}>`;
        if (listed.length + line.length > SLACK_MAX_TEXT - 40) break;
        listed += line;
        shown++;
      }
      const more = Math.max(num("failed"), extras.failedTests.length) - shown;
      blocks.push(section(`${listed}${more > 0 ? `\n…and ${more} more` : ""}`));
    }
  } else if (event === "test.flaky") {
    const link = `${base}/test-cases/${num("testCaseId")}`;
    text = `TestTrack: ${str("title")} is flaky`;
    blocks.push(
      section(
        `*<${link}|${escapeSlack(str("title"))}>* became flaky: ${num("flakyRuns")} run(s) passed on a retry, ` +
          `${num("flakyCommits")} commit(s) passed and failed`,
      ),
    );
  } else if (event === "test.new_failure") {
    const link = `${base}/runs/${num("runId")}`;
    text = "TestTrack: a new failure";
    blocks.push(
      section(`*New failure* in <${link}|run ${num("runId")}>`),
      section(`\`\`\`${escapeSlack(cut(str("sampleMessage"), SLACK_MAX_TEXT - 10))}\`\`\``),
    );
  } else {
    text = `TestTrack: ${str("message") || event}`;
    blocks.push(section(escapeSlack(text)));
  }
  return { text: cut(escapeSlack(text)), blocks: blocks.slice(0, SLACK_MAX_BLOCKS) };
}

/** A run's failed tests and new failure groups, for a run.finished message. */
export async function runFinishedExtras(db: Database, runId: number): Promise<RunFinishedExtras> {
  const [row] = await queryRows<{
    failed: { testCaseId: number; title: string }[] | null;
    groups: number;
  }>(
    db,
    sql`select (select json_agg(json_build_object('testCaseId', x.test_case_id, 'title', x.title))
               from (select rt.test_case_id, t.title from run_tests rt join test_cases t on t.id = rt.test_case_id
                     where rt.run_id = ${runId} and rt.outcome = 'failed' and not rt.quarantined
                     order by rt.test_case_id limit 10) x) as failed,
          (select count(*)::int from failure_groups g join runs r on r.id = ${runId}
             where g.project_id = r.project_id and g.first_run_id = ${runId}) as groups`,
  );
  return { failedTests: row?.failed ?? [], newFailureGroups: row?.groups ?? 0 };
}

/** The body of a delivery as its webhook's format wants it. */
export async function deliveryBody(
  db: Database,
  delivery: ClaimedDelivery,
  links: { dashboardUrl: string },
): Promise<string> {
  if (delivery.format === "slack") {
    const runId = delivery.payload.runId;
    const extras =
      delivery.event === "run.finished" && typeof runId === "number"
        ? await runFinishedExtras(db, runId)
        : undefined;
    return JSON.stringify(slackMessage(delivery.event, delivery.payload, links, extras));
  }
  return JSON.stringify({
    id: delivery.deliveryId,
    event: delivery.event,
    createdAt: delivery.createdAt.toISOString(),
    projectId: delivery.projectId,
    data: delivery.payload,
  });
}
