import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import { NotFoundError } from "../src/errors";
import { startExecution, updateExecution } from "../src/executions";
import { listFailureGroups, testHealth } from "../src/health";
import { createProject } from "../src/projects";
import { startRun } from "../src/runs";
import { ensureTestCases } from "../src/testCases";
import { createTestUser, openTestDatabase, rejectionOf, type TestDatabase } from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(async () => {
  await h.close();
});

async function fail(actor: Actor, runId: number, testCaseId: number, errorMessage: string) {
  const { executionId } = await startExecution(h.db, actor, { testCaseId, runId });
  await updateExecution(h.db, actor, { id: executionId, status: "running" });
  await updateExecution(h.db, actor, {
    id: executionId,
    status: "failed",
    result: "fail",
    errorMessage,
  });
  return executionId;
}

describe("failure groups", () => {
  it("group failures by fingerprint per project, and mark the groups a run saw first as new", async () => {
    const owner = await createTestUser(h);
    const outsider = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `groups-${randomBytes(3).toString("hex")}`,
      name: "Groups",
    });
    const [a, b, c] = await ensureTestCases(h.db, owner.actor, {
      projectId: project.id,
      testCases: ["a", "b", "c"].map((name) => ({ key: name, title: name })),
    });
    const at = (fn: string) => `\n    at ${fn} (/ci/shop/src/cart.ts:12:3)`;
    const first = await startRun(h.db, owner.actor, { projectId: project.id, key: "build-1" });
    // The same timeout in two tests, with other numbers: one group.
    await fail(
      owner.actor,
      first.id,
      a?.id ?? 0,
      `TimeoutError: waited 5000ms for #pay${at("pay")}`,
    );
    await fail(
      owner.actor,
      first.id,
      b?.id ?? 0,
      `TimeoutError: waited 7500ms for #pay${at("pay")}`,
    );
    const second = await startRun(h.db, owner.actor, { projectId: project.id, key: "build-2" });
    await fail(
      owner.actor,
      second.id,
      a?.id ?? 0,
      `TimeoutError: waited 6000ms for #pay${at("pay")}`,
    );
    await fail(owner.actor, second.id, c?.id ?? 0, `TypeError: total is undefined${at("total")}`);

    const inSecond = await listFailureGroups(h.db, owner.actor, { runId: second.id });
    const byMessage = Object.fromEntries(
      inSecond.items.map((g) => [g.sampleMessage.split("\n")[0], g]),
    );
    expect(Object.keys(byMessage).sort()).toEqual([
      "TimeoutError: waited 5000ms for #pay",
      "TypeError: total is undefined",
    ]);
    expect(byMessage["TimeoutError: waited 5000ms for #pay"]).toMatchObject({
      isNew: false,
      occurrences: 1,
      tests: 1,
      firstRunId: first.id,
    });
    expect(byMessage["TypeError: total is undefined"]).toMatchObject({
      isNew: true,
      occurrences: 1,
      tests: 1,
      sampleTests: [{ testCaseId: c?.id, title: "c" }],
    });

    const all = await listFailureGroups(h.db, owner.actor, { projectId: project.id });
    expect(all.items.map((g) => [g.sampleMessage.split("\n")[0], g.occurrences, g.tests])).toEqual([
      ["TypeError: total is undefined", 1, 1],
      ["TimeoutError: waited 5000ms for #pay", 3, 2],
    ]);
    const paged = await listFailureGroups(h.db, owner.actor, { projectId: project.id, limit: 1 });
    const rest = await listFailureGroups(h.db, owner.actor, {
      projectId: project.id,
      limit: 1,
      cursor: paged.nextCursor ?? undefined,
    });
    expect([...paged.items, ...rest.items].map((g) => g.fingerprint)).toEqual(
      all.items.map((g) => g.fingerprint),
    );
    expect(
      await rejectionOf(listFailureGroups(h.db, outsider.actor, { runId: second.id })),
    ).toBeInstanceOf(NotFoundError);

    // One test's health: its outcomes newest first, pass rate, flaky runs and failure groups.
    const { executionId: retried } = await startExecution(h.db, owner.actor, {
      testCaseId: a?.id ?? 0,
      runId: second.id,
      attempt: 1,
    });
    await updateExecution(h.db, owner.actor, { id: retried, status: "running" });
    await updateExecution(h.db, owner.actor, {
      id: retried,
      status: "completed",
      result: "pass",
      durationSeconds: 4,
    });
    const health = await testHealth(h.db, owner.actor, { testCaseId: a?.id ?? 0 });
    expect(health.outcomes.map((o) => o.result)).toEqual(["pass", "fail", "fail"]);
    expect(health.passRate).toBe(33.33);
    expect(health.flakyRuns.map((r) => r.runId)).toEqual([second.id]);
    expect(health.failureGroups).toHaveLength(1);
    expect(health.failureGroups[0]?.occurrences).toBe(2);
    expect(
      await rejectionOf(testHealth(h.db, outsider.actor, { testCaseId: a?.id ?? 0 })),
    ).toBeInstanceOf(NotFoundError);
    expect(
      await rejectionOf(listFailureGroups(h.db, outsider.actor, { projectId: project.id })),
    ).toBeInstanceOf(NotFoundError);
  });
});
