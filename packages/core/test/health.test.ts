import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import { queryRows } from "../src/db";
import { ForbiddenError, InvalidInputError, NotFoundError } from "../src/errors";
import { startExecution, updateExecution } from "../src/executions";
import { listFailureGroups, listFlakyTests, rebuildHealth, testHealth } from "../src/health";
import { addMember, createProject } from "../src/projects";
import { addQuarantine, listQuarantine, removeQuarantine } from "../src/quarantine";
import { compareRuns, finishRun, getRun, startRun } from "../src/runs";
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

/** One attempt of a test in a run, finished with `result`. */
async function record(
  actor: Actor,
  runId: number,
  testCaseId: number,
  result: "pass" | "fail",
  options: { attempt?: number; durationSeconds?: number } = {},
) {
  const { executionId } = await startExecution(h.db, actor, {
    testCaseId,
    runId,
    attempt: options.attempt ?? 0,
  });
  await updateExecution(h.db, actor, { id: executionId, status: "running" });
  await updateExecution(h.db, actor, {
    id: executionId,
    status: result === "pass" ? "completed" : "failed",
    result,
    durationSeconds: options.durationSeconds ?? 1,
    ...(result === "fail" ? { errorMessage: "AssertionError: expected 1 to be 2" } : {}),
  });
}

async function events(projectId: number) {
  return queryRows<{ type: string; test_case_id: number | null; run_id: number }>(
    h.db,
    sql`select type, test_case_id, run_id from events where project_id = ${projectId} order by id`,
  );
}

describe("flaky tests", () => {
  it("answer exactly the tests with evidence or a flip rate >= 0.2 over >= 10 outcomes, with the evidence", async () => {
    const owner = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `flaky-${randomBytes(3).toString("hex")}`,
      name: "Flaky",
    });
    const names = [
      "retried",
      "same-commit",
      "flips-0.27",
      "flips-0.09",
      "steady-pass",
      "steady-fail",
    ];
    const cases = await ensureTestCases(h.db, owner.actor, {
      projectId: project.id,
      testCases: names.map((name) => ({ key: name, title: name })),
    });
    const [retried, sameCommit, flipping, rarely, steadyPass, steadyFail] = cases.map(
      (c) => c.id,
    ) as [number, number, number, number, number, number];
    // Twelve builds of main, one commit each: "flips-0.27" goes P P P F F F P P P P F F (3 flips
    // over 11 transitions), "flips-0.09" fails once at the end (1 flip), and two steady tests.
    const flipPattern = "PPPFFFPPPPFF";
    for (let build = 0; build < 12; build++) {
      const run = await startRun(h.db, owner.actor, {
        projectId: project.id,
        key: `main-${build}`,
        branch: "main",
        commitSha: `c${build}`,
      });
      await record(owner.actor, run.id, flipping, flipPattern[build] === "P" ? "pass" : "fail");
      await record(owner.actor, run.id, rarely, build === 11 ? "fail" : "pass");
      await record(owner.actor, run.id, steadyPass, "pass");
      await record(owner.actor, run.id, steadyFail, "fail");
      if (build === 5) {
        // Fails, then passes on the runner's retry: flaky in this run.
        await record(owner.actor, run.id, retried, "fail");
        await record(owner.actor, run.id, retried, "pass", { attempt: 1 });
      } else {
        await record(owner.actor, run.id, retried, "pass");
      }
      await finishRun(h.db, owner.actor, { runId: run.id });
    }
    // One commit of a feature branch built twice: passes once, fails once.
    const feature: number[] = [];
    for (const [index, result] of (["pass", "fail"] as const).entries()) {
      const run = await startRun(h.db, owner.actor, {
        projectId: project.id,
        key: `feature-${index}`,
        branch: "feature",
        commitSha: "f00d",
      });
      await record(owner.actor, run.id, sameCommit, result);
      await finishRun(h.db, owner.actor, { runId: run.id });
      feature.push(run.id);
    }

    const flaky = await listFlakyTests(h.db, owner.actor, { projectId: project.id });
    expect(flaky.items.map((i) => i.title)).toEqual(["retried", "same-commit", "flips-0.27"]);
    const byTitle = Object.fromEntries(flaky.items.map((i) => [i.title, i]));
    expect(byTitle.retried).toMatchObject({ flakyRuns: 1, flakyCommits: 0 });
    expect(byTitle.retried?.evidence.runs.map((r) => r.key)).toEqual(["main-5"]);
    expect(byTitle["same-commit"]).toMatchObject({ flakyRuns: 0, flakyCommits: 1 });
    expect(byTitle["same-commit"]?.evidence.commits).toEqual([
      { commitSha: "f00d", passes: 1, fails: 1 },
    ]);
    expect(byTitle["flips-0.27"]).toMatchObject({
      flakyRuns: 0,
      flakyCommits: 0,
      branchOutcomes: 12,
      flips: 3,
    });
    expect(byTitle["flips-0.27"]?.flipRate).toBeCloseTo(3 / 11, 6);

    // Paged by cursor, the same order.
    const first = await listFlakyTests(h.db, owner.actor, { projectId: project.id, limit: 2 });
    const second = await listFlakyTests(h.db, owner.actor, {
      projectId: project.id,
      limit: 2,
      cursor: first.nextCursor ?? undefined,
    });
    expect([...first.items, ...second.items].map((i) => i.title)).toEqual(
      flaky.items.map((i) => i.title),
    );
    expect(second.nextCursor).toBeNull();

    // One test's health agrees, with the commit's runs as evidence.
    const sameHealth = await testHealth(h.db, owner.actor, { testCaseId: sameCommit });
    expect(sameHealth.isFlaky).toBe(true);
    expect(sameHealth.window.flakyCommits).toEqual([
      { commitSha: "f00d", passes: 1, fails: 1, runIds: [...feature].reverse() },
    ]);
    const rareHealth = await testHealth(h.db, owner.actor, { testCaseId: rarely });
    expect(rareHealth).toMatchObject({ isFlaky: false, window: { branchOutcomes: 12, flips: 1 } });
    const steady = await testHealth(h.db, owner.actor, { testCaseId: steadyFail });
    expect(steady).toMatchObject({
      isFlaky: false,
      window: { outcomes: 12, failures: 12, passRate: 0 },
    });

    // Events: one run.finished per run, test.flaky once per test as it first became flaky.
    const written = await events(project.id);
    expect(written.filter((e) => e.type === "run.finished")).toHaveLength(14);
    expect(
      written
        .filter((e) => e.type === "test.flaky")
        .map((e) => e.test_case_id)
        .sort(),
    ).toEqual([retried, sameCommit, flipping].sort());
    // The one failure message seen (first in the first build): one new failure group.
    expect(written.filter((e) => e.type === "test.new_failure")).toHaveLength(1);

    // A rebuild from the finished runs gives the same roll-ups, row for row, and the same answer.
    const rollups = () =>
      Promise.all([
        queryRows(
          h.db,
          sql`select * from test_health_days where project_id = ${project.id} order by test_case_id, day`,
        ),
        queryRows(
          h.db,
          sql`select * from test_commit_outcomes where project_id = ${project.id} order by test_case_id, commit_sha`,
        ),
        queryRows(
          h.db,
          sql`select * from test_health where project_id = ${project.id} order by test_case_id`,
        ),
      ]);
    const incremental = await rollups();
    const rebuilt = await rebuildHealth(h.db, owner.actor, { projectId: project.id });
    expect(rebuilt.runs).toBe(14);
    expect(await rollups()).toEqual(incremental);
    const again = await listFlakyTests(h.db, owner.actor, { projectId: project.id });
    expect(again.items).toEqual(flaky.items);
  });

  it("flags a duration regression against the median of the previous default-branch outcomes", async () => {
    const owner = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `slow-${randomBytes(3).toString("hex")}`,
      name: "Slow",
    });
    const [slow, steady] = await ensureTestCases(h.db, owner.actor, {
      projectId: project.id,
      testCases: ["slow", "steady"].map((name) => ({ key: name, title: name })),
    });
    let last = 0;
    for (let build = 0; build < 11; build++) {
      const run = await startRun(h.db, owner.actor, {
        projectId: project.id,
        key: `b-${build}`,
        branch: "main",
      });
      // The last build: 2.5 s against a median of 1 s (regressed); 1.2 s is not 2×.
      await record(owner.actor, run.id, slow?.id ?? 0, "pass", {
        durationSeconds: build === 10 ? 2.5 : 1,
      });
      await record(owner.actor, run.id, steady?.id ?? 0, "pass", {
        durationSeconds: build === 10 ? 1.2 : 1,
      });
      if (build < 10) await finishRun(h.db, owner.actor, { runId: run.id });
      last = run.id;
    }
    const comparison = await compareRuns(h.db, owner.actor, { runId: last });
    expect(comparison.buckets.durationRegressions.map((i) => i.title)).toEqual(["slow"]);
    expect(comparison.buckets.durationRegressions[0]?.baselineMedianSeconds).toBe(1);
    await finishRun(h.db, owner.actor, { runId: last });
    const health = await testHealth(h.db, owner.actor, { testCaseId: slow?.id ?? 0 });
    expect(health.durationRegression).toEqual({
      runId: last,
      durationSeconds: 2.5,
      baselineMedianSeconds: 1,
      regressed: true,
    });
    const steadyHealth = await testHealth(h.db, owner.actor, { testCaseId: steady?.id ?? 0 });
    expect(steadyHealth.durationRegression?.regressed).toBe(false);
  });
});

describe("quarantine", () => {
  it("keeps a quarantined failure out of the verdict until it expires, maintainer to change, member to read", async () => {
    const owner = await createTestUser(h);
    const member = await createTestUser(h);
    const viewer = await createTestUser(h);
    const project = await createProject(h.db, owner.actor, {
      slug: `quarantine-${randomBytes(3).toString("hex")}`,
      name: "Quarantine",
    });
    await addMember(h.db, owner.actor, {
      projectId: project.id,
      email: member.email,
      role: "member",
    });
    await addMember(h.db, owner.actor, {
      projectId: project.id,
      email: viewer.email,
      role: "viewer",
    });
    const [shaky, solid] = await ensureTestCases(h.db, owner.actor, {
      projectId: project.id,
      testCases: ["shaky", "solid"].map((name) => ({ key: name, title: name })),
    });
    const shakyId = shaky?.id ?? 0;

    expect(
      await rejectionOf(
        addQuarantine(h.db, member.actor, { testCaseId: shakyId, reason: "flaky" }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    expect(
      await rejectionOf(
        addQuarantine(h.db, owner.actor, {
          testCaseId: shakyId,
          reason: "flaky",
          expiresAt: new Date(Date.now() - 1000),
        }),
      ),
    ).toBeInstanceOf(InvalidInputError);
    const entry = await addQuarantine(h.db, owner.actor, {
      testCaseId: shakyId,
      reason: "times out on the CDN",
      expiresAt: new Date(Date.now() + 3_000),
    });
    expect(entry).toMatchObject({
      testCaseId: shakyId,
      active: true,
      createdBy: { id: owner.id },
    });
    expect(
      (await listQuarantine(h.db, member.actor, { projectId: project.id })).items,
    ).toHaveLength(1);
    expect(
      await rejectionOf(listQuarantine(h.db, viewer.actor, { projectId: project.id })),
    ).toBeInstanceOf(ForbiddenError);

    const quarantinedRun = await startRun(h.db, member.actor, {
      projectId: project.id,
      key: "q-1",
    });
    await record(member.actor, quarantinedRun.id, shakyId, "fail");
    await record(member.actor, quarantinedRun.id, solid?.id ?? 0, "pass");
    const finished = await finishRun(h.db, member.actor, { runId: quarantinedRun.id });
    expect(finished).toMatchObject({
      status: "passed",
      failed: 0,
      quarantined: 1,
      passed: 1,
      tests: 2,
    });
    const view = await getRun(h.db, member.actor, { id: quarantinedRun.id });
    expect(view.testsPage.items.find((t) => t.testCaseId === shakyId)).toMatchObject({
      outcome: "failed",
      quarantined: true,
    });
    const comparison = await compareRuns(h.db, member.actor, { runId: quarantinedRun.id });
    expect(comparison.counts).toMatchObject({ quarantined: 1, newFailures: 0, stillFailing: 0 });

    // Expired: it stops applying by itself, and the same failure fails the run.
    await new Promise((resolve) => setTimeout(resolve, 3_100));
    expect((await listQuarantine(h.db, member.actor, { projectId: project.id })).items).toEqual([]);
    expect(
      (await listQuarantine(h.db, member.actor, { projectId: project.id, includeExpired: true }))
        .items,
    ).toHaveLength(1);
    const laterRun = await startRun(h.db, member.actor, { projectId: project.id, key: "q-2" });
    await record(member.actor, laterRun.id, shakyId, "fail");
    expect(await finishRun(h.db, member.actor, { runId: laterRun.id })).toMatchObject({
      status: "failed",
      failed: 1,
      quarantined: 0,
    });
    const health = await testHealth(h.db, member.actor, { testCaseId: shakyId });
    expect(health.quarantine).toMatchObject({ reason: "times out on the CDN", active: false });

    expect(await removeQuarantine(h.db, owner.actor, { testCaseId: shakyId })).toEqual({
      testCaseId: shakyId,
      removed: true,
    });
    expect(await removeQuarantine(h.db, owner.actor, { testCaseId: shakyId })).toEqual({
      testCaseId: shakyId,
      removed: false,
    });
  });
});
