import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryRows } from "../src/db";
import { ForbiddenError } from "../src/errors";
import { startExecution, updateExecution } from "../src/executions";
import { addMember, createProject } from "../src/projects";
import { finishRun, startRun } from "../src/runs";
import { ensureTestCases } from "../src/testCases";
import {
  claimDeliveries,
  createWebhook,
  isPublicAddress,
  listDeliveries,
  nextStep,
  recordAttempt,
  SLACK_MAX_BLOCKS,
  SLACK_MAX_TEXT,
  signPayload,
  slackMessage,
  testWebhook,
  updateWebhook,
  verifySignature,
} from "../src/webhooks";
import { createTestUser, openTestDatabase, rejectionOf, type TestDatabase } from "./fixtures";

describe("isPublicAddress", () => {
  it.each([
    ["127.0.0.1", false],
    ["127.255.255.254", false],
    ["0.0.0.0", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["172.31.255.255", false],
    ["172.32.0.1", true],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["100.64.0.1", false],
    ["224.0.0.1", false],
    ["255.255.255.255", false],
    ["8.8.8.8", true],
    ["93.184.216.34", true],
    ["::", false],
    ["::1", false],
    ["fc00::1", false],
    ["fd00:ec2::254", false],
    ["fe80::1", false],
    ["ff02::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:7f00:1", false],
    ["::ffff:10.0.0.1", false],
    ["::ffff:169.254.169.254", false],
    ["::ffff:8.8.8.8", true],
    ["64:ff9b::7f00:1", false],
    ["2606:4700:4700::1111", true],
    ["not an address", false],
    ["localhost", false],
  ])("%s → %s", (address, expected) => {
    expect(isPublicAddress(address)).toBe(expected);
  });
});

describe("nextStep", () => {
  const delays = [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000];
  const middle = () => 0.5;
  it("delivers on 2xx, fails at once on 4xx but 429 and on redirects, retries 5xx and errors", () => {
    expect(nextStep({ statusCode: 204, durationMs: 1 }, 1, delays, middle)).toEqual({
      status: "delivered",
    });
    expect(nextStep({ statusCode: 410, durationMs: 1 }, 1, delays, middle).status).toBe("failed");
    expect(nextStep({ statusCode: 302, durationMs: 1 }, 1, delays, middle).status).toBe("failed");
    expect(nextStep({ statusCode: 429, durationMs: 1 }, 1, delays, middle)).toEqual({
      status: "pending",
      delayMs: 60_000,
    });
    expect(nextStep({ statusCode: 503, durationMs: 1 }, 2, delays, middle)).toEqual({
      status: "pending",
      delayMs: 300_000,
    });
    expect(nextStep({ error: "ECONNREFUSED", durationMs: 1 }, 5, delays, middle)).toEqual({
      status: "pending",
      delayMs: 21_600_000,
    });
    // The sixth attempt was the last.
    expect(nextStep({ statusCode: 500, durationMs: 1 }, 6, delays, middle).status).toBe("failed");
  });

  it("keeps jitter within ±20 % and honours a longer Retry-After", () => {
    for (const random of [0, 0.999]) {
      const step = nextStep({ statusCode: 500, durationMs: 1 }, 1, delays, () => random);
      expect(step.status === "pending" && step.delayMs >= 48_000 && step.delayMs <= 72_000).toBe(
        true,
      );
    }
    expect(
      nextStep({ statusCode: 429, durationMs: 1, retryAfterMs: 600_000 }, 1, delays, middle),
    ).toEqual({ status: "pending", delayMs: 600_000 });
  });
});

describe("signatures", () => {
  it("verify the body they signed, within the tolerance, and nothing else", () => {
    const body = JSON.stringify({ event: "run.finished", data: { runId: 1 } });
    const header = signPayload("whsec_test", body, 1_800_000_000);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifySignature("whsec_test", body, header, { now: 1_800_000_100 })).toBe(true);
    expect(verifySignature("whsec_other", body, header, { now: 1_800_000_100 })).toBe(false);
    expect(verifySignature("whsec_test", `${body} `, header, { now: 1_800_000_100 })).toBe(false);
    expect(verifySignature("whsec_test", body, header, { now: 1_800_001_000 })).toBe(false);
    expect(verifySignature("whsec_test", body, "v1=abc", { now: 1_800_000_000 })).toBe(false);
  });
});

describe("slackMessage", () => {
  it("stays within Slack's block-kit limits for a run with many long failures", () => {
    const message = slackMessage(
      "run.finished",
      {
        runId: 7,
        key: "build-7",
        name: "x".repeat(5_000),
        status: "failed",
        branch: "main",
        tests: 900,
        passed: 400,
        failed: 500,
        flaky: 0,
        skipped: 0,
        quarantined: 2,
      },
      { dashboardUrl: "https://testtrack.example.com/" },
      {
        failedTests: Array.from({ length: 10 }, (_, i) => ({
          testCaseId: i + 1,
          title: `${"checkout › ".repeat(60)}${i} <script>`,
        })),
        newFailureGroups: 3,
      },
    );
    expect(message.blocks.length).toBeLessThanOrEqual(SLACK_MAX_BLOCKS);
    expect(message.text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
    for (const block of message.blocks as { text: { text: string } }[]) {
      expect(block.text.text.length).toBeLessThanOrEqual(SLACK_MAX_TEXT);
      expect(block.text.text).not.toContain("<script>");
    }
    const all = JSON.stringify(message);
    expect(all).toContain("https://testtrack.example.com/runs/7");
    expect(all).toContain("3 new failure groups");
    expect(all).toContain("…and 490 more");
  });
});

describe("webhook outbox", () => {
  let h: TestDatabase;
  beforeAll(async () => {
    h = await openTestDatabase();
  });
  afterAll(async () => {
    await h.close();
  });

  it("queues one delivery per matching webhook in the finishing transaction, claims each once, and records attempts", async () => {
    const owner = await createTestUser(h);
    const member = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `hooks-${randomBytes(3).toString("hex")}`,
      name: "Hooks",
    });
    await addMember(h.db, owner.actor, {
      projectId: project.id,
      email: member.email,
      role: "member",
    });
    expect(
      await rejectionOf(
        createWebhook(h.db, member.actor, {
          projectId: project.id,
          url: "https://hooks.example.com/a",
          events: ["run.finished"],
        }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    const every = await createWebhook(h.db, owner.actor, {
      projectId: project.id,
      url: "https://hooks.example.com/every",
      events: ["run.finished", "test.new_failure"],
    });
    expect(every.secret).toMatch(/^whsec_/);
    const failedOnMain = await createWebhook(h.db, owner.actor, {
      projectId: project.id,
      url: "https://hooks.example.com/failed-main",
      events: ["run.finished"],
      format: "slack",
      onlyFailedRuns: true,
      branch: "main",
    });
    const disabled = await createWebhook(h.db, owner.actor, {
      projectId: project.id,
      url: "https://hooks.example.com/off",
      events: ["run.finished"],
    });
    await updateWebhook(h.db, owner.actor, { id: disabled.id, enabled: false });

    const [test] = await ensureTestCases(h.db, owner.actor, {
      projectId: project.id,
      testCases: [{ key: "a", title: "a" }],
    });
    const build = async (key: string, branch: string, result: "pass" | "fail") => {
      const run = await startRun(h.db, owner.actor, { projectId: project.id, key, branch });
      const { executionId } = await startExecution(h.db, owner.actor, {
        testCaseId: test?.id ?? 0,
        runId: run.id,
      });
      await updateExecution(h.db, owner.actor, { id: executionId, status: "running" });
      await updateExecution(h.db, owner.actor, {
        id: executionId,
        status: result === "pass" ? "completed" : "failed",
        result,
        errorMessage: result === "fail" ? "Error: boom" : undefined,
      });
      return finishRun(h.db, owner.actor, { runId: run.id });
    };
    await build("passing-main", "main", "pass");
    await build("failing-feature", "feature", "fail");
    await build("failing-main", "main", "fail");
    const queued = await queryRows<{ webhook_id: number; event: string; key: string | null }>(
      h.db,
      sql`select d.webhook_id, d.event, d.payload->>'key' as key from webhook_deliveries d
          where d.project_id = ${project.id} order by d.id`,
    );
    expect(queued).toEqual([
      { webhook_id: every.id, event: "run.finished", key: "passing-main" },
      { webhook_id: every.id, event: "run.finished", key: "failing-feature" },
      // The feature run's failure is the first of its group: a new failure.
      { webhook_id: every.id, event: "test.new_failure", key: null },
      { webhook_id: every.id, event: "run.finished", key: "failing-main" },
      { webhook_id: failedOnMain.id, event: "run.finished", key: "failing-main" },
    ]);

    // Two workers claiming at once never take the same delivery.
    const [a, b] = await Promise.all([
      claimDeliveries(h.db, { limit: 3, claimMs: 60_000 }),
      claimDeliveries(h.db, { limit: 3, claimMs: 60_000 }),
    ]);
    const claimed = [...(a ?? []), ...(b ?? [])];
    const ours = claimed.filter((d) => d.projectId === project.id);
    expect(new Set(ours.map((d) => d.id)).size).toBe(ours.length);
    expect(ours.length).toBe(5);
    // Claimed: nobody else gets them until the claim lapses.
    expect(
      (await claimDeliveries(h.db, { limit: 100, claimMs: 60_000 })).filter(
        (d) => d.projectId === project.id,
      ),
    ).toEqual([]);

    const first = ours[0];
    if (!first) throw new Error("nothing claimed");
    expect(
      await recordAttempt(h.db, first, { statusCode: 500, durationMs: 12, response: "oops" }),
    ).toBe("pending");
    expect(
      await recordAttempt(h.db, { ...first, attempts: 2 }, { statusCode: 200, durationMs: 8 }),
    ).toBe("delivered");
    const page = await listDeliveries(h.db, owner.actor, { webhookId: every.id, limit: 10 });
    const delivered = page.items.find((d) => d.id === first.id);
    expect(delivered).toMatchObject({ status: "delivered" });
    expect(delivered?.log.map((entry) => [entry.statusCode, entry.response])).toEqual([
      [200, null],
      [500, "oops"],
    ]);

    // Failing for longer than the limit disables the webhook, with the reason.
    const second = ours[1];
    if (!second) throw new Error("nothing claimed");
    await h.db.execute(
      sql`update webhooks set failing_since = now() - interval '4 days' where id = ${every.id}`,
    );
    await recordAttempt(h.db, second, { error: "ECONNREFUSED", durationMs: 3 });
    const [after] = await queryRows<{ enabled: boolean; disabled_reason: string | null }>(
      h.db,
      sql`select enabled, disabled_reason from webhooks where id = ${every.id}`,
    );
    expect(after?.enabled).toBe(false);
    expect(after?.disabled_reason).toMatch(/failed for 72 hours \(last: ECONNREFUSED\)/);
    // A disabled webhook's deliveries wait; the enabled one's are claimed.
    await h.db.execute(
      sql`update webhook_deliveries set claimed_until = null where project_id = ${project.id}`,
    );
    const waiting = (await claimDeliveries(h.db, { limit: 100, claimMs: 60_000 })).filter(
      (d) => d.projectId === project.id,
    );
    expect(new Set(waiting.map((d) => d.webhookId))).toEqual(new Set([failedOnMain.id]));
  });

  it("records nothing, and neither fails nor deadlocks, when the webhook is deleted during an attempt", async () => {
    const owner = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `hooks-${randomBytes(3).toString("hex")}`,
      name: "Hooks deleted",
    });
    const hook = await createWebhook(h.db, owner.actor, {
      projectId: project.id,
      url: "https://hooks.example.com/deleted",
      events: ["run.finished"],
    });
    await testWebhook(h.db, owner.actor, { id: hook.id });
    const claimed = (await claimDeliveries(h.db, { limit: 100, claimMs: 60_000 })).find(
      (d) => d.webhookId === hook.id,
    );
    if (!claimed) throw new Error("the ping was not claimed");
    // Another session deletes the webhook (its deliveries go by cascade) and commits only once
    // the attempt is waiting for it.
    const other = postgres(h.url, { max: 1, onnotice: () => {} });
    let commit = () => {};
    const committing = new Promise<void>((resolve) => {
      commit = resolve;
    });
    let deleted = () => {};
    const hasDeleted = new Promise<void>((resolve) => {
      deleted = resolve;
    });
    const deleting = other.begin(async (tx) => {
      await tx`delete from webhooks where id = ${hook.id}`;
      deleted();
      await committing;
    });
    await hasDeleted;
    const recording = recordAttempt(h.db, claimed, { statusCode: 500, durationMs: 5 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    commit();
    await deleting;
    await other.end();
    // Before the webhook's row was locked first, this failed: the attempt's row referenced a
    // delivery deleted meanwhile (or the two deadlocked, in the other interleaving).
    expect(await recording).toBe("pending");
    const [left] = await queryRows<{ n: number }>(
      h.db,
      sql`select count(*)::int as n from webhook_attempts where delivery_id = ${claimed.id}`,
    );
    expect(left?.n).toBe(0);
  });
});
