import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { queryRows, verifySignature } from "@testtrack/core";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWebhookWorker, type WebhookWorker } from "../src/webhookWorker";
import {
  createClient,
  createTestPrincipal,
  silentLog,
  startTestServer,
  type TestServer,
} from "./fixtures";

interface Received {
  event: string;
  delivery: string;
  signature: string;
  body: string;
  path: string;
}

/** A real webhook receiver on loopback: records each request, answers as `answer` says. */
async function startReceiver(
  answer: (
    request: IncomingMessage,
    received: Received[],
  ) => { status: number; delayMs?: number; location?: string },
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      received.push({
        event: String(request.headers["x-testtrack-event"]),
        delivery: String(request.headers["x-testtrack-delivery"]),
        signature: String(request.headers["x-testtrack-signature"]),
        body,
        path: request.url ?? "",
      });
      const { status, delayMs, location } = answer(request, received);
      setTimeout(() => {
        response.writeHead(status, location ? { location } : {});
        response.end(status >= 400 ? `answer ${status}` : "ok");
      }, delayMs ?? 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (typeof address !== "object" || !address) throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    received,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const FAST_RETRIES = [100, 100, 100, 100, 100];

/** A worker for the test: fast retries, a fixed dashboard address. */
const workerOptions = (allowPrivate: boolean, pollMs: number) => ({
  allowPrivate,
  pollMs,
  claimMs: 30_000,
  retryDelaysMs: FAST_RETRIES,
  dashboardUrl: "https://testtrack.example.com",
});

describe("webhook deliveries to a real receiver", () => {
  let server: TestServer;
  let worker: WebhookWorker;
  let client: ReturnType<typeof createClient>;
  let projectId: number;

  beforeAll(async () => {
    server = await startTestServer();
    const lead = await createTestPrincipal(server.database);
    client = createClient(server.trpcUrl, lead.token);
    projectId = (await client.project.create.mutate({ slug: "hooked", name: "Hooked" })).id;
    worker = startWebhookWorker(server.database, workerOptions(true, 50), silentLog);
  });
  afterAll(async () => {
    await worker?.stop();
    await server?.close();
  });

  it("sends a finished run exactly once, signed with the webhook's secret", async () => {
    const receiver = await startReceiver(() => ({ status: 204 }));
    try {
      const hook = await client.webhook.create.mutate({
        projectId,
        url: `${receiver.url}/hooks/testtrack`,
        events: ["run.finished"],
      });
      const run = await client.run.start.mutate({ projectId, key: "build-1", branch: "main" });
      await client.run.finish.mutate({ runId: run.id });
      await waitFor(() => (receiver.received.length > 0 ? true : undefined));
      await worker.drain();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(receiver.received).toHaveLength(1);
      const [got] = receiver.received;
      expect(got?.event).toBe("run.finished");
      expect(got?.path).toBe("/hooks/testtrack");
      expect(verifySignature(hook.secret, got?.body ?? "", got?.signature ?? "")).toBe(true);
      expect(verifySignature("whsec_wrong", got?.body ?? "", got?.signature ?? "")).toBe(false);
      const body = JSON.parse(got?.body ?? "{}");
      expect(body).toMatchObject({
        id: got?.delivery,
        event: "run.finished",
        projectId,
        data: { runId: run.id, key: "build-1", status: "passed", branch: "main" },
      });
      const log = await client.webhook.deliveries.query({ webhookId: hook.id });
      expect(log.items.map((d) => [d.deliveryId, d.status, d.attempts])).toEqual([
        [got?.delivery, "delivered", 1],
      ]);
      // The list never shows the secret.
      const listed = await client.webhook.list.query({ projectId });
      expect(JSON.stringify(listed)).not.toContain(hook.secret);
    } finally {
      await receiver.close();
    }
  });

  it("retries 500 twice then succeeds (three attempts logged), and fails a 410 after one", async () => {
    let calls = 0;
    const flaky = await startReceiver(() => ({ status: ++calls <= 2 ? 500 : 200 }));
    const gone = await startReceiver(() => ({ status: 410 }));
    try {
      const retried = await client.webhook.create.mutate({
        projectId,
        url: flaky.url,
        events: ["run.finished"],
      });
      const refused = await client.webhook.create.mutate({
        projectId,
        url: gone.url,
        events: ["run.finished"],
      });
      const ping = await client.webhook.test.mutate({ id: retried.id });
      await client.webhook.test.mutate({ id: refused.id });
      const done = await waitFor(async () => {
        const page = await client.webhook.deliveries.query({ webhookId: retried.id });
        const item = page.items[0];
        return item?.status === "delivered" ? item : undefined;
      });
      expect(done.deliveryId).toBe(ping.deliveryId);
      expect(done.attempts).toBe(3);
      expect(done.log.map((entry) => entry.statusCode)).toEqual([200, 500, 500]);
      expect(done.log[1]?.response).toBe("answer 500");
      expect(new Set(flaky.received.map((r) => r.delivery))).toEqual(new Set([ping.deliveryId]));
      const failed = await waitFor(async () => {
        const page = await client.webhook.deliveries.query({ webhookId: refused.id });
        const item = page.items[0];
        return item?.status === "failed" ? item : undefined;
      });
      expect(failed.attempts).toBe(1);
      expect(gone.received).toHaveLength(1);
    } finally {
      await Promise.all([flaky.close(), gone.close()]);
    }
  });

  it("refuses loopback targets end to end unless allowed, and never follows a redirect", async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    const target = await startReceiver(() => ({ status: 200 }));
    const redirecting = await startReceiver(() => ({ status: 302, location: target.url }));
    const strict = startWebhookWorker(server.database, workerOptions(false, 60_000), silentLog);
    try {
      await worker.stop();
      const port = new URL(receiver.url).port;
      // Names this machine resolves to loopback, besides localhost (from /etc/hosts).
      const loopbackNames = readFileSync("/etc/hosts", "utf8")
        .split("\n")
        .filter((line) => line.startsWith("127."))
        .flatMap((line) => line.split(/\s+/).slice(1))
        .filter((name) => name && !name.startsWith("#"));
      const urls = [
        `http://127.0.0.1:${port}/`,
        `http://[::1]:${port}/`,
        `http://localhost:${port}/`,
        `http://127.1:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
        ...loopbackNames.slice(0, 3).map((name) => `http://${name}:${port}/`),
      ];
      const hooks = [];
      for (const url of urls) {
        const hook = await client.webhook.create.mutate({ projectId, url, events: ["test.flaky"] });
        await client.webhook.test.mutate({ id: hook.id });
        hooks.push(hook);
      }
      await strict.drain();
      for (const hook of hooks) {
        const [delivery] = (await client.webhook.deliveries.query({ webhookId: hook.id })).items;
        expect(delivery?.status, hook.url).toBe("failed");
        expect(delivery?.attempts, hook.url).toBe(1);
        expect(delivery?.log[0]?.error, hook.url).toMatch(/^refused: /);
      }
      expect(receiver.received).toHaveLength(0);

      // Allowed (as tests do), a 302 is still the end: the target it names hears nothing.
      const redirect = await client.webhook.create.mutate({
        projectId,
        url: redirecting.url,
        events: ["test.flaky"],
      });
      await client.webhook.test.mutate({ id: redirect.id });
      worker = startWebhookWorker(server.database, workerOptions(true, 50), silentLog);
      const [followed] = (
        await waitFor(async () => {
          const page = await client.webhook.deliveries.query({ webhookId: redirect.id });
          return page.items[0]?.status === "failed" ? page : undefined;
        })
      ).items;
      expect(followed?.attempts).toBe(1);
      expect(followed?.log[0]?.error).toMatch(/redirects are not followed/);
      expect(redirecting.received).toHaveLength(1);
      expect(target.received).toHaveLength(0);
    } finally {
      await strict.stop();
      await Promise.all([receiver.close(), target.close(), redirecting.close()]);
    }
  });

  it("answers the webhook, quarantine and health routes over REST too", async () => {
    const token = (await createTestPrincipal(server.database)).token;
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    const created = await call("POST", "/webhooks", {
      url: "https://hooks.example.com/rest",
      events: ["run.finished"],
      format: "slack",
    });
    expect(created.status).toBe(200);
    expect(created.body.secret).toMatch(/^whsec_/);
    const hookId = Number(created.body.id);
    expect((await call("POST", `/webhooks/${hookId}/test`)).status).toBe(200);
    const deliveries = await call("GET", `/webhooks/${hookId}/deliveries?limit=5`);
    expect(deliveries.status).toBe(200);
    expect((deliveries.body.items as { event: string }[]).map((d) => d.event)).toEqual(["ping"]);
    expect((await call("PATCH", `/webhooks/${hookId}`, { enabled: false })).body.enabled).toBe(
      false,
    );
    expect((await call("DELETE", `/webhooks/${hookId}`)).status).toBe(200);
    expect((await call("GET", `/webhooks/${hookId}/deliveries`)).status).toBe(404);

    const testCase = await fetch(`${server.url}/api/v1/tests/ensure-many`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ testCases: [{ key: "rest › quarantined", title: "quarantined" }] }),
    }).then((r) => r.json() as Promise<{ id: number }[]>);
    const testCaseId = testCase[0]?.id ?? 0;
    const quarantined = await call("POST", `/tests/${testCaseId}/quarantine`, {
      reason: "over REST",
    });
    expect(quarantined.body).toMatchObject({ testCaseId, reason: "over REST", active: true });
    const listed = await call("GET", "/quarantine");
    expect((listed.body.items as { testCaseId: number }[]).map((e) => e.testCaseId)).toEqual([
      testCaseId,
    ]);
    expect((await call("GET", `/tests/${testCaseId}/health`)).body).toMatchObject({
      testCaseId,
      isFlaky: false,
      quarantine: { reason: "over REST" },
    });
    expect((await call("GET", "/health/flaky?window=30")).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await call("DELETE", `/tests/${testCaseId}/quarantine`)).body).toEqual({
      testCaseId,
      removed: true,
    });
    const bad = await call("GET", "/health/flaky?window=365");
    expect(bad.status).toBe(400);
  });

  it("refuses a webhook URL that is not http(s), and hides webhooks from members", async () => {
    const refused = await client.webhook.create
      .mutate({ projectId, url: "file:///etc/passwd", events: ["run.finished"] })
      .catch((error: unknown) => error as { data?: { code?: string }; message: string });
    expect(refused).toMatchObject({ data: { code: "BAD_REQUEST" } });
    expect((refused as { message: string }).message).toMatch(/http\(s\) URL/);
  });
});

describe("webhook workers on two server instances", () => {
  let server: TestServer;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    server = await startTestServer();
    // A user exists: the instances make no first admin (two at once would race for it).
    await createTestPrincipal(server.database);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await server?.close();
  });

  /** A server process (`src/main.ts`) on the test database, resolved once it listens. */
  async function startInstance(): Promise<ChildProcess> {
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^(DATABASE_URL|PORT|HOST|TESTTRACK_|LOG_LEVEL|NODE_ENV)/.test(name)) env[name] = value;
    }
    Object.assign(env, {
      DATABASE_URL: server.database.url,
      PORT: "0",
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      TESTTRACK_WEBHOOK_ALLOW_PRIVATE: "1",
      TESTTRACK_WEBHOOK_POLL_MS: "50",
      TESTTRACK_WEBHOOK_CLAIM_SECONDS: "3",
      TESTTRACK_WEBHOOK_RETRY_SECONDS: "0.2,0.2,0.2,0.2,0.2",
    });
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: join(import.meta.dirname, ".."),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    let output = "";
    const append = (chunk: Buffer) => {
      output += chunk.toString();
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    await waitFor(() => {
      if (child.exitCode !== null) throw new Error(`instance exited:\n${output}`);
      return output.includes("TestTrack listening on") ? true : undefined;
    }, 60_000);
    return child;
  }

  async function queue(webhookUrl: string, count: number) {
    const { db } = server.database;
    const [project] = await queryRows<{ id: number }>(
      db,
      sql`insert into projects (slug, name) values (${`many-${Date.now()}`}, 'Many') returning id`,
    );
    await db.execute(
      sql`insert into webhooks (project_id, url, events, secret) values (${project?.id}, ${webhookUrl}, '{test.flaky}', 'whsec_many')`,
    );
    await db.execute(
      sql`insert into events (project_id, type, test_case_id, payload)
          select ${project?.id}, 'test.flaky', null, jsonb_build_object('n', g) from generate_series(1, ${count}::int) g`,
    );
    return Number(project?.id);
  }

  async function pendingOf(projectId: number): Promise<number> {
    const [row] = await queryRows<{ n: number }>(
      server.database.db,
      sql`select count(*)::int as n from webhook_deliveries where project_id = ${projectId} and status <> 'delivered'`,
    );
    return Number(row?.n);
  }

  it("deliver 1,000 events exactly once between them, and lose none when one is killed mid-way", async () => {
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 5 }));
    try {
      // Both listening (and their workers polling) before anything is queued.
      const [, killed] = await Promise.all([startInstance(), startInstance()]);
      if (!killed) throw new Error("no instance");
      const first = await queue(receiver.url, 1_000);
      await waitFor(async () => ((await pendingOf(first)) === 0 ? true : undefined), 120_000);
      const ids = receiver.received.map((r) => r.delivery);
      expect(ids).toHaveLength(1_000);
      expect(new Set(ids).size).toBe(1_000);

      receiver.received.length = 0;
      const second = await queue(receiver.url, 1_000);
      await waitFor(() => (receiver.received.length >= 200 ? true : undefined), 60_000);
      killed.kill("SIGKILL");
      await waitFor(async () => ((await pendingOf(second)) === 0 ? true : undefined), 120_000);
      const unique = new Set(receiver.received.map((r) => r.delivery));
      const duplicates = receiver.received.length - unique.size;
      console.log(
        `webhooks: 2 instances, 1,000 deliveries each exactly once; with one SIGKILLed mid-way: ${unique.size} of 1,000 delivered, ${duplicates} sent twice (in flight at the kill, taken over after the claim lapsed)`,
      );
      expect(unique.size).toBe(1_000);
      // Only what the killed worker held could go twice: at most one batch.
      expect(duplicates).toBeLessThanOrEqual(20);
    } finally {
      await receiver.close();
    }
  }, 240_000);
});
