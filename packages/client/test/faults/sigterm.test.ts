import { mkdtempSync, rmSync } from "node:fs";
import { get } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openDatabase, startEmbeddedPostgres } from "@testtrack/core";
import { createTRPCClient, httpLink } from "@trpc/client";
import { sql } from "drizzle-orm";
import { afterAll, expect, it } from "vitest";
import { type AppRouter, createTestTrackClient } from "../../src/index";
import { ADMIN, startServerProcess } from "./serverProcess";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Whether a request on a new connection (no keep-alive reuse) is refused. */
function freshConnectionRefused(target: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(target, { agent: false }, (response) => {
      response.resume();
      resolve(false);
    });
    request.on("error", () => resolve(true));
  });
}

it("finishes in-flight requests on SIGTERM, refuses new ones, and leaves nothing half-written", async () => {
  // On the embedded PostgreSQL, as `pnpm start` runs it: SIGTERM must stop it cleanly too.
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-sigterm-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const server = await startServerProcess(dataDir);
  const { child, url, exited } = server;
  cleanups.push(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const output = () => server.output();

  const anonymous = createTestTrackClient({ url });
  const { token } = await anonymous.auth.login.mutate(ADMIN);
  const client = createTestTrackClient({ url, token });
  // One HTTP request per upload (no batching), so many are in flight when the signal lands.
  const uploader = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
  const testCase = await client.testCase.create.mutate({ title: "Shutdown under load" });
  const { executionId } = await client.execution.start.mutate({ testCaseId: testCase.id });

  // 150 uploads of 20 steps each, 30 at a time; SIGTERM goes out once 30 have been answered.
  const BATCHES = 150;
  const outcomes: ("stored" | "refused")[] = new Array(BATCHES);
  const answeredAt: number[] = new Array(BATCHES);
  const refusals: string[] = [];
  let answered = 0;
  let signalled = false;
  let signalledAt = Number.POSITIVE_INFINITY;
  let refusedAfterSignal: boolean | undefined;
  const upload = async (batch: number) => {
    const steps = Array.from({ length: 20 }, (_, i) => ({
      stepNumber: batch * 20 + i + 1,
      stepDescription: `batch ${batch} step ${i}`,
      result: "pass" as const,
    }));
    try {
      await uploader.step.record.mutate({ executionId, steps });
      outcomes[batch] = "stored";
      answeredAt[batch] = Date.now();
    } catch (error) {
      outcomes[batch] = "refused";
      // Refused means never handled: a connection error, not an answer from the server.
      const data = (error as { data?: { httpStatus?: number } }).data;
      if (data) refusals.push(`batch ${batch}: HTTP ${data.httpStatus}`);
    }
    answered++;
    if (answered === 30 && !signalled) {
      signalled = true;
      signalledAt = Date.now();
      child.kill("SIGTERM");
      // Once the server says it is stopping, a new connection must be refused.
      for (let i = 0; i < 200 && !output().includes("SIGTERM received"); i++) await sleep(50);
      refusedAfterSignal = await freshConnectionRefused(`${url}/healthz`);
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 30 }, async () => {
      while (next < BATCHES) await upload(next++);
    }),
  );
  const exitCode = await exited;

  expect(signalled).toBe(true);
  expect(exitCode, output()).toBe(0);
  expect(refusedAfterSignal).toBe(true);
  const stored = outcomes.filter((o) => o === "stored").length;
  // Requests the server was handling when the signal came were answered after it.
  const completedAfterSignal = answeredAt.filter((at) => at > signalledAt).length;
  expect(completedAfterSignal).toBeGreaterThan(0);
  expect(refusals).toEqual([]);

  // The server stopped its PostgreSQL: start it again on the same folder and check every batch
  // is all or nothing.
  const embedded = await startEmbeddedPostgres({ dataDir });
  cleanups.push(() => embedded.stop());
  const database = openDatabase({ url: embedded.url });
  cleanups.push(() => database.close());
  const result = (await database.db.execute(
    sql`select step_number from test_execution_steps where execution_id = ${executionId}`,
  )) as unknown as { rows: { step_number: number }[] } | { step_number: number }[];
  const rows = Array.isArray(result) ? result : result.rows;
  const numbers = new Set(rows.map((r) => r.step_number));
  for (let batch = 0; batch < BATCHES; batch++) {
    const present = Array.from({ length: 20 }, (_, i) => numbers.has(batch * 20 + i + 1));
    const all = present.every(Boolean);
    const none = present.every((p) => !p);
    expect(all || none, `batch ${batch} is half-written`).toBe(true);
    if (outcomes[batch] === "stored")
      expect(all, `batch ${batch} was acknowledged but is missing`).toBe(true);
  }
  const summary = (await database.db.execute(
    sql`select total_steps from test_executions where id = ${executionId}`,
  )) as unknown as { rows: { total_steps: number }[] } | { total_steps: number }[];
  const summaryRows = Array.isArray(summary) ? summary : summary.rows;
  expect(summaryRows[0]?.total_steps).toBe(numbers.size);
  console.log(
    `SIGTERM under load: ${completedAfterSignal} in-flight uploads completed after the signal, ${stored} of ${BATCHES} acknowledged, ${numbers.size / 20} stored, ` +
      `${BATCHES - stored} refused; exit code ${exitCode}`,
  );
}, 120_000);
