import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import { createProject } from "../src/projects";
import { applyRetention, deleteExpiredBatch, previewProjectRetention } from "../src/retention";
import { executionStatistics, rawExecutionStatistics } from "../src/stats";
import { recordSteps } from "../src/steps";
import {
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  queryRows,
  startExecutionFor,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const DAY = 86_400_000;

/** An execution of `steps` steps in the project, created `daysAgo` days ago. */
async function executionOf(actor: Actor, projectId: number, steps: number, daysAgo: number) {
  const testCase = await createTestCaseFor(h, actor, { projectId });
  const id = await startExecutionFor(h, actor, testCase.id);
  for (let from = 1; from <= steps; from += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, steps - from + 1) }, (_, i) => ({
      stepNumber: from + i,
      stepDescription: `step ${from + i}`,
      result: (from + i) % 7 === 0 ? ("fail" as const) : ("pass" as const),
    }));
    await recordSteps(h.db, actor, { executionId: id, steps: batch, returnSteps: false });
  }
  await h.db.execute(
    sql`update test_executions set created_at = now() - ${`${daysAgo} days`}::interval where id = ${id}`,
  );
  return id;
}

async function remaining(ids: number[]) {
  const rows = await queryRows<{ id: number }>(
    h,
    sql`select id from test_executions where id = any(${`{${ids.join(",")}}`}::int[]) order by id`,
  );
  return rows.map((row) => row.id);
}

describe("project retention", () => {
  let actor: Actor;
  let kept: number[];
  let expired: number[];
  let untouched: number;
  let projectId: number;

  beforeAll(async () => {
    const owner = await createTestUser(h, "admin");
    actor = owner.actor;
    const project = await createProject(h.db, actor, { slug: "retained", name: "Retained" });
    projectId = project.id;
    await h.db.execute(sql`update projects set retention_days = 30 where id = ${projectId}`);
    const forever = await createProject(h.db, actor, { slug: "forever", name: "Forever" });
    expired = [
      await executionOf(actor, projectId, 2_600, 40),
      await executionOf(actor, projectId, 3_000, 35),
      await executionOf(actor, projectId, 12, 31),
      await executionOf(actor, projectId, 6_500, 60),
    ];
    kept = [await executionOf(actor, projectId, 20, 29), await executionOf(actor, projectId, 5, 1)];
    untouched = await executionOf(actor, forever.id, 10, 400);
  }, 120_000);

  it("previews what would go without deleting anything", async () => {
    const preview = await previewProjectRetention(h.db);
    expect(preview).toEqual([
      expect.objectContaining({ projectId, retentionDays: 30, executions: 4, steps: 12_112 }),
    ]);
    expect(preview[0]?.horizon.getTime()).toBeCloseTo(Date.now() - 30 * DAY, -4);
    expect(await remaining(expired)).toEqual([...expired].sort((a, b) => a - b));
  });

  it("deletes at most 5,000 rows a batch, an execution larger than that step by step", async () => {
    const batches = [];
    for (;;) {
      const batch = await deleteExpiredBatch(h.db);
      if (batch.executions === 0 && batch.steps === 0) break;
      expect(batch.executions + batch.steps).toBeLessThanOrEqual(5_000);
      batches.push(batch);
    }
    expect(batches.reduce((sum, b) => sum + b.executions, 0)).toBe(4);
    expect(await remaining(expired)).toEqual([]);
    expect(await remaining([...kept, untouched])).toEqual(
      [...kept, untouched].sort((a, b) => a - b),
    );
    const [orphans] = await queryRows<{ n: number }>(
      h,
      sql`select count(*)::int as n from test_execution_steps s
          where not exists (select 1 from test_executions e where e.id = s.execution_id)`,
    );
    expect(orphans?.n).toBe(0);
  });

  it("leaves statistics equal to the raw aggregates, and finds nothing more to do", async () => {
    for (const scope of [{ projectId }, {}]) {
      expect(await executionStatistics(h.db, actor, scope)).toEqual(
        await rawExecutionStatistics(h.db, actor, scope),
      );
    }
    expect(await applyRetention(h.db, { pauseMs: 0 })).toEqual({
      partitionsDropped: [],
      executions: 0,
      steps: 0,
      artifacts: 0,
      batches: 0,
    });
    expect((await previewProjectRetention(h.db))[0]).toMatchObject({ executions: 0, steps: 0 });
  });
});
