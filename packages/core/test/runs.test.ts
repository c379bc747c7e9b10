import { randomBytes } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import { ConflictError, ForbiddenError, NotFoundError } from "../src/errors";
import { deleteExecution, startExecution, updateExecution } from "../src/executions";
import { addMember, createProject } from "../src/projects";
import {
  cancelRun,
  compareRuns,
  finishRun,
  finishShard,
  getRun,
  listRuns,
  startRun,
  timeOutQuietRuns,
} from "../src/runs";
import type { ExecutionResult } from "../src/schema";
import { ensureTestCases } from "../src/testCases";
import {
  createTestUser,
  insertExecution,
  openTestDatabase,
  queryRows,
  rejectionOf,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(async () => {
  await h.close();
});

const key = () => `build-${randomBytes(4).toString("hex")}`;

/** A project with a maintainer, and its test cases by name. */
async function project(defaultBranch = "main") {
  const owner = await createTestUser(h);
  const created = await createProject(h.db, owner.actor, {
    slug: `runs-${randomBytes(4).toString("hex")}`,
    name: "Runs",
    defaultBranch,
  });
  const cases = async (...names: string[]) => {
    const ensured = await ensureTestCases(h.db, owner.actor, {
      projectId: created.id,
      testCases: names.map((name) => ({ key: `spec › ${name}`, title: name })),
    });
    return Object.fromEntries(ensured.map((c, i) => [names[i], c.id])) as Record<string, number>;
  };
  return { owner, actor: owner.actor, projectId: created.id, cases };
}

/** One finished attempt of a test in a run. */
async function attempt(
  actor: Actor,
  runId: number,
  testCaseId: number,
  result: ExecutionResult,
  tryNumber = 0,
  durationSeconds = 1,
) {
  const started = await startExecution(h.db, actor, { testCaseId, runId, attempt: tryNumber });
  await updateExecution(h.db, actor, { id: started.executionId, status: "running" });
  await updateExecution(h.db, actor, {
    id: started.executionId,
    status: result === "pass" || result === "skip" ? "completed" : "failed",
    result,
    durationSeconds,
  });
  return started.executionId;
}

/** run_tests and the run's counts recomputed from the executions: must equal what is stored. */
async function recount(runId: number) {
  const [stored] = await queryRows<Record<string, number>>(
    h,
    sql`select tests, passed, failed, flaky, skipped from runs where id = ${runId}`,
  );
  const [expected] = await queryRows<Record<string, number>>(
    h,
    sql`with last as (
          select distinct on (test_case_id) test_case_id, result from test_executions
          where run_id = ${runId} and status in ('completed', 'failed', 'cancelled')
          order by test_case_id, attempt desc, id desc),
        failed_before as (
          select test_case_id, bool_or(result in ('fail', 'error')) as failed from test_executions
          where run_id = ${runId} and status in ('completed', 'failed', 'cancelled') group by 1),
        outcomes as (
          select case when l.result = 'pass' and f.failed then 'flaky' when l.result = 'pass' then 'passed'
            when l.result in ('fail', 'error') then 'failed' else 'skipped' end as outcome
          from last l join failed_before f using (test_case_id))
        select count(*)::int as tests, count(*) filter (where outcome = 'passed')::int as passed,
          count(*) filter (where outcome = 'failed')::int as failed,
          count(*) filter (where outcome = 'flaky')::int as flaky,
          count(*) filter (where outcome = 'skipped')::int as skipped from outcomes`,
  );
  return { stored, expected };
}

describe("run.start", () => {
  it("makes one run of eight shards starting at once, and fills empty fields without resetting counts", async () => {
    const { actor, projectId, cases } = await project();
    const { login } = await cases("login");
    const runKey = key();
    const started = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        startRun(h.db, actor, {
          projectId,
          key: runKey,
          shard: i + 1,
          expectedShards: 8,
          ...(i === 5 ? { branch: "main", commitSha: "abc123" } : {}),
        }),
      ),
    );
    expect(new Set(started.map((r) => r.id)).size).toBe(1);
    expect(started.filter((r) => r.created)).toHaveLength(1);
    const runId = started[0]?.id ?? 0;
    await attempt(actor, runId, login ?? 0, "pass");
    const joined = await startRun(h.db, actor, {
      projectId,
      key: runKey,
      branch: "other",
      name: "CI",
    });
    expect(joined).toMatchObject({
      branch: "main",
      commitSha: "abc123",
      name: "CI",
      tests: 1,
      passed: 1,
    });
    expect(joined.shards.map((s) => s.shard)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe("run outcomes", () => {
  it("take each test's last attempt, count failed-then-passed as flaky, and equal a recount", async () => {
    const { actor, projectId, cases } = await project();
    const { a, b, c, d, e } = await cases("a", "b", "c", "d", "e");
    const run = await startRun(h.db, actor, { projectId, key: key() });
    await attempt(actor, run.id, a ?? 0, "pass");
    await attempt(actor, run.id, b ?? 0, "fail", 0);
    await attempt(actor, run.id, b ?? 0, "pass", 1);
    await attempt(actor, run.id, c ?? 0, "error", 0);
    await attempt(actor, run.id, c ?? 0, "fail", 1);
    await attempt(actor, run.id, d ?? 0, "skip");
    const removed = await attempt(actor, run.id, e ?? 0, "fail");
    // An unfinished attempt changes nothing; deleting e's only execution removes e.
    await startExecution(h.db, actor, { testCaseId: a ?? 0, runId: run.id, attempt: 1 });
    await deleteExecution(h.db, actor, { id: removed });

    const view = await getRun(h.db, actor, { id: run.id });
    expect(view).toMatchObject({ tests: 4, passed: 1, failed: 1, flaky: 1, skipped: 1 });
    expect(view.testsPage.items.map((t) => [t.title, t.outcome, t.attempts])).toEqual([
      ["c", "failed", 2],
      ["b", "flaky", 2],
      ["d", "skipped", 1],
      ["a", "passed", 1],
    ]);
    const { stored, expected } = await recount(run.id);
    expect(stored).toEqual(expected);

    const failedOnly = await getRun(h.db, actor, { id: run.id, outcome: "failed" });
    expect(failedOnly.testsPage.items.map((t) => t.title)).toEqual(["c"]);
    const firstTwo = await getRun(h.db, actor, { id: run.id, limit: 2 });
    const rest = await getRun(h.db, actor, {
      id: run.id,
      limit: 2,
      cursor: firstTwo.testsPage.nextCursor ?? 0,
    });
    expect(rest.testsPage.items.map((t) => t.title)).toEqual(["d", "a"]);
  });

  it("stay equal to a recount when shards record concurrently with retries", async () => {
    const { actor, projectId, cases } = await project();
    const names = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const ids = await cases(...names);
    const run = await startRun(h.db, actor, { projectId, key: key(), expectedShards: 4 });
    await Promise.all(
      [0, 1, 2, 3].map(async (shard) => {
        for (const [i, name] of names.entries()) {
          if (i % 4 !== shard) continue;
          const first: ExecutionResult = i % 5 === 0 ? "fail" : i % 7 === 0 ? "skip" : "pass";
          await attempt(actor, run.id, ids[name] ?? 0, first, 0);
          if (first === "fail")
            await attempt(actor, run.id, ids[name] ?? 0, i % 10 === 0 ? "pass" : "fail", 1);
        }
        await finishShard(h.db, actor, { runId: run.id, shard: shard + 1 });
      }),
    );
    const { stored, expected } = await recount(run.id);
    expect(stored).toEqual(expected);
    expect(stored?.tests).toBe(40);
    const finished = await getRun(h.db, actor, { id: run.id });
    expect(finished.status).toBe("failed");
    expect(finished.finishedAt).not.toBeNull();
    expect(finished.shards.every((s) => s.finishedAt !== null)).toBe(true);
  });
});

describe("finishing runs", () => {
  it("finishes when the last expected shard does, even when the last two finish at once", async () => {
    const { actor, projectId, cases } = await project();
    const { a } = await cases("a");
    for (let round = 0; round < 5; round++) {
      const run = await startRun(h.db, actor, { projectId, key: key(), expectedShards: 3 });
      await attempt(actor, run.id, a ?? 0, "pass");
      await finishShard(h.db, actor, { runId: run.id, shard: 1 });
      expect((await getRun(h.db, actor, { id: run.id })).status).toBe("running");
      await Promise.all([
        finishShard(h.db, actor, { runId: run.id, shard: 2 }),
        finishShard(h.db, actor, { runId: run.id, shard: 3 }),
      ]);
      expect((await getRun(h.db, actor, { id: run.id })).status).toBe("passed");
    }
  });

  it("finishes on request, refuses another ending, and a CI re-run opens it again", async () => {
    const { actor, projectId, cases } = await project();
    const { a } = await cases("a");
    const runKey = key();
    const run = await startRun(h.db, actor, { projectId, key: runKey });
    await attempt(actor, run.id, a ?? 0, "fail");
    expect((await finishRun(h.db, actor, { runId: run.id })).status).toBe("failed");
    expect((await finishRun(h.db, actor, { runId: run.id })).status).toBe("failed");
    expect(
      await rejectionOf(finishRun(h.db, actor, { runId: run.id, status: "passed" })),
    ).toBeInstanceOf(ConflictError);
    expect(
      await rejectionOf(startExecution(h.db, actor, { testCaseId: a ?? 0, runId: run.id })),
    ).toBeInstanceOf(ConflictError);
    // The failed job re-run: attempt 1 joins the same run, which runs again.
    const rerun = await startRun(h.db, actor, { projectId, key: runKey, attempt: 1 });
    expect(rerun).toMatchObject({
      id: run.id,
      status: "running",
      finishedAt: null,
      created: false,
    });
    await attempt(actor, run.id, a ?? 0, "pass", 1);
    expect((await finishRun(h.db, actor, { runId: run.id })).status).toBe("passed");
    expect((await getRun(h.db, actor, { id: run.id })).flaky).toBe(1);
  });

  it("keeps a finished run's verdict equal to its counts when a late execution finishes", async () => {
    const { actor, projectId, cases, owner } = await project();
    const { a } = await cases("a");
    const run = await startRun(h.db, actor, { projectId, key: key() });
    await attempt(actor, run.id, a ?? 0, "pass");
    expect((await finishRun(h.db, actor, { runId: run.id })).status).toBe("passed");
    // An execution that passed the "run is open" check just before the run finished.
    const late = await insertExecution(h, {
      testCaseId: a ?? 0,
      userId: owner.id,
      runId: run.id,
      attempt: 1,
      status: "running",
    });
    await updateExecution(h.db, actor, { id: late.id, status: "failed", result: "fail" });
    expect(await getRun(h.db, actor, { id: run.id })).toMatchObject({
      status: "failed",
      failed: 1,
    });
  });

  it("cancels a run with its open executions", async () => {
    const { actor, projectId, cases } = await project();
    const { a } = await cases("a");
    const run = await startRun(h.db, actor, { projectId, key: key() });
    const open = await startExecution(h.db, actor, { testCaseId: a ?? 0, runId: run.id });
    const cancelled = await cancelRun(h.db, actor, { runId: run.id });
    expect(cancelled.status).toBe("cancelled");
    const [row] = await queryRows<{ status: string }>(
      h,
      sql`select status from test_executions where id = ${open.executionId}`,
    );
    expect(row?.status).toBe("cancelled");
  });

  it("times out quiet runs once, however many sweepers run, and spares active ones", async () => {
    const { actor, projectId, cases } = await project();
    const { a } = await cases("a");
    const quiet = await startRun(h.db, actor, { projectId, key: key() });
    const open = await startExecution(h.db, actor, { testCaseId: a ?? 0, runId: quiet.id });
    const active = await startRun(h.db, actor, { projectId, key: key() });
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    await h.db.execute(
      sql`update runs set last_activity_at = ${hourAgo}::timestamptz where id in (${quiet.id}, ${active.id})`,
    );
    await h.db.execute(
      sql`update test_executions set updated_at = ${hourAgo}::timestamptz where id = ${open.executionId}`,
    );
    await startExecution(h.db, actor, { testCaseId: a ?? 0, runId: active.id });
    const cutoff = new Date(Date.now() - 30 * 60_000);
    const sweeps = await Promise.all([1, 2, 3].map(() => timeOutQuietRuns(h.db, cutoff)));
    const timedOut = sweeps.flat().filter((id) => id === quiet.id || id === active.id);
    expect(timedOut).toEqual([quiet.id]);
    expect((await getRun(h.db, actor, { id: quiet.id })).status).toBe("timed_out");
    expect((await getRun(h.db, actor, { id: active.id })).status).toBe("running");
    const [row] = await queryRows<{ status: string }>(
      h,
      sql`select status from test_executions where id = ${open.executionId}`,
    );
    expect(row?.status).toBe("cancelled");
  });
});

describe("run.compare", () => {
  it("buckets new failures, fixed, still failing, flaky, added, removed and slower against the base", async () => {
    const { actor, projectId, cases } = await project("main");
    const t = await cases(
      "steady",
      "breaks",
      "fixed",
      "broken",
      "flaky",
      "removed",
      "added",
      "slow",
    );
    const id = (name: string) => t[name] ?? 0;
    const base = await startRun(h.db, actor, { projectId, key: key(), branch: "main" });
    for (const name of ["steady", "breaks", "flaky", "removed"])
      await attempt(actor, base.id, id(name), "pass");
    for (const name of ["fixed", "broken"]) await attempt(actor, base.id, id(name), "fail");
    await attempt(actor, base.id, id("slow"), "pass", 0, 2);
    await finishRun(h.db, actor, { runId: base.id });
    // A later run on another branch is no base; nor is an unfinished one on main.
    const feature = await startRun(h.db, actor, { projectId, key: key(), branch: "feature" });
    await finishRun(h.db, actor, { runId: feature.id });
    await startRun(h.db, actor, { projectId, key: key(), branch: "main" });

    const run = await startRun(h.db, actor, { projectId, key: key(), branch: "feature" });
    await attempt(actor, run.id, id("steady"), "pass");
    await attempt(actor, run.id, id("breaks"), "fail");
    await attempt(actor, run.id, id("fixed"), "pass");
    await attempt(actor, run.id, id("broken"), "fail");
    await attempt(actor, run.id, id("flaky"), "fail", 0);
    await attempt(actor, run.id, id("flaky"), "pass", 1);
    await attempt(actor, run.id, id("added"), "pass");
    await attempt(actor, run.id, id("slow"), "pass", 0, 6);
    await finishRun(h.db, actor, { runId: run.id });

    const comparison = await compareRuns(h.db, actor, { runId: run.id });
    expect(comparison.base?.id).toBe(base.id);
    const titles = Object.fromEntries(
      Object.entries(comparison.buckets).map(([bucket, items]) => [
        bucket,
        items.map((i) => i.title),
      ]),
    );
    expect(titles).toEqual({
      newFailures: ["breaks"],
      stillFailing: ["broken"],
      fixed: ["fixed"],
      flaky: ["flaky"],
      added: ["added"],
      removed: ["removed"],
      slower: ["slow"],
      durationRegressions: [],
      quarantined: [],
    });
    expect(comparison.counts).toEqual({
      newFailures: 1,
      stillFailing: 1,
      fixed: 1,
      flaky: 1,
      added: 1,
      removed: 1,
      slower: 1,
      durationRegressions: 0,
      quarantined: 0,
    });
    // Against an explicit base: the feature run with no tests, every test of the run is added.
    const againstFeature = await compareRuns(h.db, actor, { runId: run.id, baseRunId: feature.id });
    expect(againstFeature.counts.added).toBe(7);
    expect(againstFeature.counts.removed).toBe(0);
  });
});

describe("run.get tests page", () => {
  it("searches test titles case-insensitively, % and _ literally, and pages the matches by cursor", async () => {
    const { actor, projectId, cases } = await project();
    const titles = [
      "Cart shows 100% discount",
      "cart_total rounds down",
      "Cart total rounds up",
      "CART badge counts items",
      "Checkout pays",
      "Search 50%off banner",
    ];
    const ids = await cases(...titles);
    const run = await startRun(h.db, actor, { projectId, key: key() });
    for (const [index, title] of titles.entries()) {
      await attempt(actor, run.id, ids[title] ?? 0, index % 2 ? "fail" : "pass");
    }
    const titlesOf = async (search: string, outcome?: "failed" | "passed") =>
      (await getRun(h.db, actor, { id: run.id, search, outcome })).testsPage.items.map(
        (t) => t.title,
      );

    expect((await titlesOf("  cArT ")).sort()).toEqual(
      titles.filter((t) => /cart/i.test(t)).sort(),
    );
    expect(await titlesOf("%")).toEqual(
      expect.arrayContaining(["Cart shows 100% discount", "Search 50%off banner"]),
    );
    expect(await titlesOf("%")).toHaveLength(2);
    expect(await titlesOf("0% d")).toEqual(["Cart shows 100% discount"]);
    expect(await titlesOf("cart_")).toEqual(["cart_total rounds down"]);
    expect(await titlesOf("t_t")).toEqual(["cart_total rounds down"]);
    expect(await titlesOf("\\")).toEqual([]);
    expect((await titlesOf("cart", "failed")).sort()).toEqual(
      titles.filter((t, i) => i % 2 && /cart/i.test(t)).sort(),
    );

    // Two at a time by cursor: every match once, failed first, then by test case id.
    const all = (await getRun(h.db, actor, { id: run.id, search: "cart" })).testsPage.items;
    const paged: string[] = [];
    let cursor: number | undefined;
    do {
      const page = await getRun(h.db, actor, { id: run.id, search: "cart", cursor, limit: 2 });
      paged.push(...page.testsPage.items.map((t) => t.title));
      cursor = page.testsPage.nextCursor ?? undefined;
    } while (cursor);
    expect(paged).toEqual(all.map((t) => t.title));
    expect(all.map((t) => t.outcome)).toEqual(["failed", "failed", "passed", "passed"]);

    for (const search of ["", "   ", "x".repeat(201)]) {
      expect(await rejectionOf(getRun(h.db, actor, { id: run.id, search }))).toBeInstanceOf(Error);
    }
  });
});

describe("run access", () => {
  it("lets viewers read runs only, and hides them from outsiders", async () => {
    const { actor, owner, projectId } = await project();
    const viewer = await createTestUser(h);
    const outsider = await createTestUser(h);
    await addMember(h.db, actor, { projectId, email: viewer.email, role: "viewer" });
    const run = await startRun(h.db, actor, { projectId, key: key() });
    expect((await getRun(h.db, viewer.actor, { id: run.id })).id).toBe(run.id);
    expect((await listRuns(h.db, viewer.actor, { projectId })).items.map((r) => r.id)).toEqual([
      run.id,
    ]);
    expect(
      await rejectionOf(startRun(h.db, viewer.actor, { projectId, key: key() })),
    ).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(finishRun(h.db, viewer.actor, { runId: run.id }))).toBeInstanceOf(
      ForbiddenError,
    );
    expect(await rejectionOf(getRun(h.db, outsider.actor, { id: run.id }))).toBeInstanceOf(
      NotFoundError,
    );
    expect(await rejectionOf(compareRuns(h.db, outsider.actor, { runId: run.id }))).toBeInstanceOf(
      NotFoundError,
    );
    // A run of another project is no place for this project's executions.
    const other = await project();
    const { x } = await other.cases("x");
    expect(
      await rejectionOf(startExecution(h.db, other.actor, { testCaseId: x ?? 0, runId: run.id })),
    ).toBeInstanceOf(NotFoundError);
    expect(owner.id).toBeGreaterThan(0);
  });

  it("lists runs newest first by cursor, filtered by branch and status", async () => {
    const { actor, projectId } = await project();
    const made = [];
    for (let i = 0; i < 5; i++) {
      made.push(
        await startRun(h.db, actor, { projectId, key: key(), branch: i % 2 ? "dev" : "main" }),
      );
    }
    const seen: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await listRuns(h.db, actor, { projectId, limit: 2, cursor });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(made.map((r) => r.id).reverse());
    const main = await listRuns(h.db, actor, { projectId, branch: "main", status: "running" });
    expect(main.items).toHaveLength(3);
  });
});
