import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTRPCClient, httpLink } from "@trpc/client";
import { afterAll, expect, it } from "vitest";
import { type AppRouter, createTestTrackClient } from "../../src/index";
import { ADMIN, type ServerProcess, startServerProcess } from "./serverProcess";

const cleanups: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function stopOnCleanup(server: ServerProcess) {
  cleanups.push(async () => {
    if (server.child.exitCode !== null) return;
    server.child.kill("SIGTERM");
    await server.exited;
  });
}

/** The embedded postmaster's pid, from the first line of its lock file. */
function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, "postgres", "postmaster.pid"), "utf8").split("\n")[0]);
}

it("keeps every acknowledged step when the server is killed with SIGKILL mid-ingest, and starts again by itself", async () => {
  await killMidIngestAndRestart({ killPostgres: false });
}, 180_000);

it("keeps every acknowledged step when the server and its PostgreSQL are killed with SIGKILL mid-ingest, and starts again by itself", async () => {
  await killMidIngestAndRestart({ killPostgres: true });
}, 180_000);

/**
 * Uploads steps through a server on a fresh embedded database, kills it with SIGKILL (its
 * PostgreSQL too, or left running), starts it again on the same folder and checks every
 * acknowledged upload is stored whole.
 */
async function killMidIngestAndRestart({ killPostgres }: { killPostgres: boolean }) {
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-kill9-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServerProcess(dataDir);
  stopOnCleanup(first);
  const postmaster = postmasterPid(dataDir);
  const { token } = await createTestTrackClient({ url: first.url }).auth.login.mutate(ADMIN);
  const client = createTestTrackClient({ url: first.url, token });
  const uploader = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${first.url}/trpc`, headers: { authorization: `Bearer ${token}` } })],
  });
  const testCase = await client.testCase.create.mutate({ title: "Killed under load" });
  const { executionId } = await client.execution.start.mutate({ testCaseId: testCase.id });

  // 200 uploads of 25 steps, 20 at a time; SIGKILL (no shutdown at all) once 40 are answered.
  const BATCHES = 200;
  const acknowledged = new Set<number>();
  let answered = 0;
  const upload = async (batch: number) => {
    const steps = Array.from({ length: 25 }, (_, i) => ({
      stepNumber: batch * 25 + i + 1,
      stepDescription: `batch ${batch} step ${i}`,
      result: "pass" as const,
    }));
    try {
      await uploader.step.record.mutate({ executionId, steps });
      acknowledged.add(batch);
    } catch {
      // Lost with the process: never acknowledged, so the runner would retry it.
    }
    if (++answered === 40) {
      first.child.kill("SIGKILL");
      if (killPostgres) process.kill(postmaster, "SIGKILL");
    }
  };
  let next = 0;
  await Promise.all(
    Array.from({ length: 20 }, async () => {
      while (next < BATCHES) await upload(next++);
    }),
  );
  await first.exited;
  expect(acknowledged.size).toBeGreaterThanOrEqual(40);
  expect(acknowledged.size).toBeLessThan(BATCHES);

  // Left behind: a running PostgreSQL, or a dead (perhaps unreaped) one in a stale pid file;
  // either way a plain start copes.
  const second = await startServerProcess(dataDir);
  stopOnCleanup(second);
  expect(postmasterPid(dataDir)).not.toBe(postmaster);
  const { token: again } = await createTestTrackClient({ url: second.url }).auth.login.mutate(
    ADMIN,
  );
  const reader = createTestTrackClient({ url: second.url, token: again });
  const stored = new Set(
    (await reader.step.list.query({ executionId })).map((step) => step.stepNumber),
  );
  for (let batch = 0; batch < BATCHES; batch++) {
    const present = Array.from({ length: 25 }, (_, i) => stored.has(batch * 25 + i + 1));
    expect(
      present.every(Boolean) || present.every((p) => !p),
      `batch ${batch} is half-written`,
    ).toBe(true);
    if (acknowledged.has(batch))
      expect(present.every(Boolean), `batch ${batch} was acknowledged but is missing`).toBe(true);
  }
  const execution = await reader.execution.get.query({ id: executionId });
  expect(execution.totalSteps).toBe(stored.size);
  console.log(
    `SIGKILL under load (PostgreSQL ${killPostgres ? "killed too" : "left running"}): ${acknowledged.size} of ${BATCHES} uploads acknowledged, ${stored.size / 25} stored`,
  );
}
