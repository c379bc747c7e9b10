import { mkdtempSync, rmSync } from "node:fs";
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

it("keeps every acknowledged step when the server is killed with SIGKILL mid-ingest, and starts again by itself", async () => {
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-kill9-"));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const first = await startServerProcess(dataDir);
  stopOnCleanup(first);
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
    if (++answered === 40) first.child.kill("SIGKILL");
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

  // The killed server left its PostgreSQL running and its pid file behind: a plain start copes.
  const second = await startServerProcess(dataDir);
  stopOnCleanup(second);
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
    `SIGKILL under load: ${acknowledged.size} of ${BATCHES} uploads acknowledged, ${stored.size / 25} stored; the restart took over the orphaned PostgreSQL`,
  );
}, 180_000);
