import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import {
  countExecutions,
  deleteExecution,
  startExecution,
  updateExecution,
} from "../src/executions";
import { addMember, createProject } from "../src/projects";
import { EXECUTION_RESULTS, testExecutions } from "../src/schema";
import { executionStatistics, rawExecutionStatistics } from "../src/stats";
import { recordSteps, updateStep } from "../src/steps";
import { failStuckExecutions } from "../src/stuckExecutions";
import { deleteTestCase } from "../src/testCases";
import { deleteUser } from "../src/users";
import { createTestCaseFor, createTestUser, openTestDatabase, type TestDatabase } from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
  return {
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T,
    chance: (p: number) => next() < p,
  };
}

const rows = async (query: ReturnType<typeof sql>) => {
  const result = (await h.db.execute(query)) as unknown as { rows: unknown[] } | unknown[];
  return Array.isArray(result) ? result : result.rows;
};

/** The roll-up tables recomputed from test_executions, and as stored: must be equal. */
async function rollupsAgainstRaw() {
  const stored = await rows(sql`
    select project_id, day::text, dimension, value, executions, round(duration_sum::numeric, 6)::text as duration_sum, duration_count
    from execution_daily_stats where executions <> 0 or duration_count <> 0 order by 1, 2, 3, 4`);
  const expected = await rows(sql`
    select e.project_id, (e.created_at at time zone 'UTC')::date::text as day, d.dimension, d.value,
      count(*)::int as executions, round(coalesce(sum(e.duration_seconds), 0)::numeric, 6)::text as duration_sum,
      count(e.duration_seconds)::int as duration_count
    from test_executions e cross join lateral (values ('total', ''), ('status', e.status::text),
      ('result', coalesce(e.result::text, 'none')), ('browser', coalesce(e.browser, 'unspecified')),
      ('environment', coalesce(e.environment, 'unspecified'))) d(dimension, value)
    group by 1, 2, 3, 4 order by 1, 2, 3, 4`);
  const storedCases = await rows(sql`
    select project_id, day::text, test_case_id, executions from execution_daily_test_cases
    where executions <> 0 order by 1, 2, 3`);
  const expectedCases = await rows(sql`
    select project_id, (created_at at time zone 'UTC')::date::text as day, test_case_id, count(*)::int as executions
    from test_executions group by 1, 2, 3 order by 1, 2, 3`);
  const storedTotals = await rows(sql`
    select project_id, dimension, value, executions, round(duration_sum::numeric, 6)::text as duration_sum, duration_count
    from execution_totals where executions <> 0 or duration_count <> 0 order by 1, 2, 3`);
  const expectedTotals = await rows(sql`
    select project_id, dimension, value, sum(executions)::int as executions,
      round(sum(duration_sum)::numeric, 6)::text as duration_sum, sum(duration_count)::int as duration_count
    from execution_daily_stats group by 1, 2, 3 having sum(executions) <> 0 or sum(duration_count) <> 0 order by 1, 2, 3`);
  const storedCaseTotals = await rows(sql`
    select project_id, test_case_id, executions from execution_test_case_totals where executions <> 0 order by 1, 2`);
  const expectedCaseTotals = await rows(sql`
    select project_id, test_case_id, count(*)::int as executions from test_executions group by 1, 2 order by 1, 2`);
  const storedHours = await rows(sql`
    select project_id, to_char(hour at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, executions
    from execution_hourly_counts where executions <> 0 order by 1, 2`);
  const expectedHours = await rows(sql`
    select project_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD HH24') as hour, count(*)::int as executions
    from test_executions group by 1, 2 order by 1, 2`);
  return {
    storedHours,
    expectedHours,
    stored,
    expected,
    storedCases,
    expectedCases,
    storedTotals,
    expectedTotals,
    storedCaseTotals,
    expectedCaseTotals,
  };
}

describe("statistics roll-ups", () => {
  it("equal the raw aggregates after a random mix of starts, updates, step uploads and deletes", async () => {
    const random = prng(20261124);
    const admin = await createTestUser(h, "admin");
    const members = await Promise.all([createTestUser(h), createTestUser(h), createTestUser(h)]);
    const actors: Actor[] = members.map((m) => m.actor);
    // A project the three share (a deleted member's executions there must be subtracted too),
    // beside each one's personal project.
    const [founder] = actors;
    if (!founder) throw new Error("no members");
    const shared = await createProject(h.db, founder, { slug: "rollups-shared", name: "Shared" });
    for (const actor of actors.slice(1)) {
      await addMember(h.db, founder, {
        projectId: shared.id,
        email: members.find((m) => m.id === actor.id)?.email,
        role: "member",
      });
    }
    const sharedCase = (await createTestCaseFor(h, founder, { projectId: shared.id })).id;
    const cases = new Map<number, number[]>();
    for (const actor of actors) {
      const ids: number[] = [sharedCase];
      for (let i = 0; i < 3; i++) ids.push((await createTestCaseFor(h, actor)).id);
      cases.set(actor.id, ids);
    }
    const executions: { id: number; actor: Actor; steps: number }[] = [];
    const now = Date.now();
    let operations = 0;

    for (let i = 0; i < 400; i++) {
      const actor = random.pick(actors);
      const action = random.int(10);
      operations++;
      if (action < 3 || executions.length === 0) {
        const testCaseId = random.pick(cases.get(actor.id) ?? []);
        const started = await startExecution(h.db, actor, {
          testCaseId,
          browser: random.pick(["chromium", "firefox", "WebKit", undefined]),
          environment: random.pick(["dev", "staging", undefined]),
        });
        // Spread creation over 40 days, at any time of day, as history would be.
        const createdAt = new Date(now - random.int(40 * 24 * 60) * 60_000);
        await h.db.execute(
          sql`update ${testExecutions} set created_at = ${createdAt.toISOString()}::timestamptz where id = ${started.executionId}`,
        );
        executions.push({ id: started.executionId, actor, steps: 0 });
        continue;
      }
      const target = random.pick(executions);
      const attempt = async (work: () => Promise<unknown>) => work().catch(() => undefined);
      if (action < 6) {
        const count = 1 + random.int(3);
        await attempt(() =>
          recordSteps(h.db, target.actor, {
            executionId: target.id,
            steps: Array.from({ length: count }, (_, k) => ({
              stepNumber: target.steps + k + 1,
              stepDescription: "step",
              result: random.pick(EXECUTION_RESULTS),
            })),
          }).then((r) => {
            target.steps += count;
            return r;
          }),
        );
      } else if (action < 8) {
        await attempt(() =>
          updateExecution(h.db, target.actor, {
            id: target.id,
            status: random.pick(["running", "completed", "failed", "cancelled"] as const),
            ...(random.chance(0.5) ? { result: random.pick(EXECUTION_RESULTS) } : {}),
            ...(random.chance(0.5) ? { durationSeconds: random.int(600) / 4 } : {}),
          }),
        );
      } else if (action < 9) {
        const [step] = await rows(
          sql`select id from test_execution_steps where execution_id = ${target.id} limit 1`,
        );
        if (step) {
          await attempt(() =>
            updateStep(h.db, target.actor, {
              id: (step as { id: number }).id,
              result: random.pick(EXECUTION_RESULTS),
            }),
          );
        }
      } else {
        await attempt(() => deleteExecution(h.db, target.actor, { id: target.id }));
        executions.splice(executions.indexOf(target), 1);
      }
    }
    // Bulk paths: the stuck-run sweeper, a test case delete and a user delete (both cascade).
    await failStuckExecutions(h.db, new Date(now + 60_000));
    const [firstMember, secondMember] = members;
    const doomedCase = cases.get(firstMember?.id ?? 0)?.[1];
    if (doomedCase && firstMember)
      await deleteTestCase(h.db, firstMember.actor, { id: doomedCase });
    if (secondMember) await deleteUser(h.db, admin.actor, { id: secondMember.id });

    const tables = await rollupsAgainstRaw();
    expect(tables.stored).toEqual(tables.expected);
    expect(tables.storedCases).toEqual(tables.expectedCases);
    expect(tables.storedTotals).toEqual(tables.expectedTotals);
    expect(tables.storedCaseTotals).toEqual(tables.expectedCaseTotals);
    expect(tables.storedHours).toEqual(tables.expectedHours);
    expect(tables.expected.length).toBeGreaterThan(30);
    expect(tables.expectedHours.length).toBeGreaterThan(30);

    // List totals come from execution_filter_counts: compare with count(*) for filter mixes.
    const filterMixes = [
      {},
      { status: "completed" as const },
      { result: "fail" as const, browser: "chromium" },
      { status: "running" as const, environment: "dev", browser: "firefox" },
      { browser: "webkit" },
    ];
    const remaining = actors.filter((a) => a.id !== secondMember?.id);
    for (const actor of [admin.actor, ...remaining]) {
      for (const filters of filterMixes) {
        const counted = await countExecutions(h.db, actor, filters);
        const [row] = (await rows(sql`select count(*)::int as n from test_executions where
          (${actor.role === "admin"} or project_id = (select id from projects where personal_user_id = ${actor.id}))
          and (${filters.status ?? null}::text is null or status::text = ${filters.status ?? null})
          and (${filters.result ?? null}::text is null or result::text = ${filters.result ?? null})
          and (${filters.browser ?? null}::text is null or browser = ${filters.browser ?? null})
          and (${filters.environment ?? null}::text is null or environment = ${filters.environment ?? null})`)) as {
          n: number;
        }[];
        expect(counted, `${actor.id} ${JSON.stringify(filters)}`).toBe(row?.n);
      }
    }

    const at = new Date(now);
    const sinceValues = [
      undefined,
      new Date(now - 3.5 * 24 * 3600_000),
      new Date(now - 20 * 24 * 3600_000 + 1234),
    ];
    let compared = 0;
    for (const [actor, projectId] of [
      [admin.actor, undefined],
      ...remaining.map((a) => [a, undefined] as const),
      [founder, shared.id],
    ] as const) {
      for (const since of sinceValues) {
        const input = { projectId, ...(since ? { since: since.toISOString() } : {}) };
        const fromRollups = await executionStatistics(h.db, actor, input, at);
        const fromScan = await rawExecutionStatistics(h.db, actor, input, at);
        expect(
          fromRollups,
          `actor ${actor.id} project ${projectId} since ${since?.toISOString()}`,
        ).toEqual(fromScan);
        compared++;
      }
    }
    const adminStats = await executionStatistics(h.db, admin.actor, {}, at);
    expect(adminStats.totalExecutions).toBeGreaterThan(20);
    expect(compared).toBe(12);
    const sharedStats = await executionStatistics(h.db, founder, { projectId: shared.id }, at);
    expect(sharedStats.totalExecutions).toBeGreaterThan(5);
    expect(operations).toBe(400);
  }, 180_000);
});
