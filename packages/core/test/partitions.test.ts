import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { and, asc, eq, gt, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Actor } from "../src/actor";
import { migrationsFolder, openDatabase } from "../src/db";
import { hasErrorCode } from "../src/errors";
import { getExecution } from "../src/executions";
import { executionStepsSince } from "../src/live";
import { createProject, updateProject } from "../src/projects";
import {
  applyRetention,
  ensureStepPartitions,
  listStepPartitions,
  previewRetention,
} from "../src/retention";
import {
  type ExecutionPartition,
  executionSteps,
  partitionKeyOf,
  partitionOf,
  stepsOfExecution,
  testExecutionSteps,
  testExecutions,
} from "../src/schema";
import { executionStatistics, rawExecutionStatistics } from "../src/stats";
import { readSteps } from "../src/stepReads";
import { listSteps, recordSteps, updateStep } from "../src/steps";
import {
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  queryRows,
  startExecutionFor,
  type TestDatabase,
  testDatabaseUrl,
} from "./fixtures";

const DAY = 86_400_000;

/** `YYYYMM` of a time's UTC month: the suffix of its step partition. */
function monthOf(at: Date): string {
  return `${at.getUTCFullYear()}${String(at.getUTCMonth() + 1).padStart(2, "0")}`;
}

/**
 * A new database migrated up to (not including) migration `before`, for a test of that migration;
 * `url` migrates it the rest of the way (openDatabase). Dropped in afterAll.
 */
function databaseMigratedBefore(prefix: string, before: number) {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`;
  const url = testDatabaseUrl(name);
  const admin = postgres(testDatabaseUrl("postgres"), { max: 1, onnotice: () => {} });
  const client = postgres(url, { max: 2, onnotice: () => {} });
  const folder = mkdtempSync(join(tmpdir(), "testtrack-migrations-"));
  beforeAll(async () => {
    await admin.unsafe(`create database ${name}`);
    cpSync(migrationsFolder, folder, { recursive: true });
    const journalPath = join(folder, "meta/_journal.json");
    const journal = JSON.parse(readFileSync(journalPath, "utf8"));
    journal.entries = journal.entries.filter((entry: { idx: number }) => entry.idx < before);
    writeFileSync(journalPath, JSON.stringify(journal));
    await migrate(drizzle(client), { migrationsFolder: folder });
  });
  afterAll(async () => {
    await client.end();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
    rmSync(folder, { recursive: true, force: true });
  });
  /** A user with their personal project and a test case in it, written as SQL. */
  const owner = async (label: string) => {
    const [user] = await client`insert into users (email, name, password_hash)
      values (${`${label}@example.com`}, ${label}, 'x') returning id`;
    const [project] = await client`select id from projects where personal_user_id = ${user?.id}`;
    const [testCase] = await client`insert into test_cases (project_id, user_id, title)
      values (${project?.id}, ${user?.id}, ${`${label} test`}) returning id`;
    return { user, project, testCase };
  };
  return { client, url, owner };
}

describe("the migration to monthly step partitions", () => {
  const ages = [400, 70, 40, 0];
  // The schema as wave 1 and the rest of wave 2 left it: every migration before 0025.
  const { client, url, owner } = databaseMigratedBefore("testtrack_partition", 25);

  it("moves every step, ids and contents kept, into the partition of its execution's month", async () => {
    const { user, project, testCase } = await owner("old");
    for (const [i, age] of ages.entries()) {
      const [execution] = await client`insert into test_executions
        (project_id, test_case_id, user_id, status, created_at)
        values (${project?.id}, ${testCase?.id}, ${user?.id}, 'running',
          now() - ${`${age} days`}::interval) returning id`;
      await client`insert into test_execution_steps (execution_id, step_number, step_description, result, error_message)
        select ${execution?.id}, n, 'step ' || n || ' of ' || ${i}, 'pass', case when n = 2 then 'boom' end
        from generate_series(1, 250) n`;
    }
    // One execution without steps, and one step id gap (a deleted step).
    await client`insert into test_executions (project_id, test_case_id, user_id)
      values (${project?.id}, ${testCase?.id}, ${user?.id})`;
    await client`delete from test_execution_steps where id = 7`;
    const fingerprint = () => client`
      select count(*)::int as n, md5(string_agg(concat_ws('|', id, execution_id, step_number,
        step_description, result, error_message, created_at), ',' order by id)) as h
      from test_execution_steps`;
    const [before] = await fingerprint();
    expect(before?.n).toBe(999);

    const handle = openDatabase({ url });
    try {
      await handle.migrate();
      const [after] = await fingerprint();
      expect(after).toEqual(before);
      const [misplaced] = await client`select count(*)::int as n from test_execution_steps s
        join test_executions e on e.id = s.execution_id where s.execution_created_at <> e.created_at`;
      expect(misplaced?.n).toBe(0);
      const [inDefault] = await client`select count(*)::int as n from test_execution_steps_default`;
      expect(inDefault?.n).toBe(0);
      const partitions = await listStepPartitions(handle.db);
      const names = partitions.map((p) => p.name);
      for (const age of ages) {
        expect(names).toContain(
          `test_execution_steps_p${monthOf(new Date(Date.now() - age * DAY))}`,
        );
      }
      // Three months ahead exist, so steps never wait for a partition at a month's turn.
      const ahead = new Date();
      ahead.setUTCDate(1);
      ahead.setUTCMonth(ahead.getUTCMonth() + 3);
      expect(names).toContain(`test_execution_steps_p${monthOf(ahead)}`);
      for (const p of partitions) expect(p.to.getTime()).toBeGreaterThan(p.from.getTime());
      const [counts] = await client`select
        (select count(*) from test_execution_steps_p${client.unsafe(monthOf(new Date(Date.now() - 400 * DAY)))})::int as old`;
      expect(counts?.old).toBe(249);

      // New steps continue after the moved ids.
      const [oldest] = await client`select id from test_executions order by created_at limit 1`;
      const actor: Actor = { id: Number(user?.id), role: "member" };
      const recorded = await recordSteps(handle.db, actor, {
        executionId: Number(oldest?.id),
        steps: [{ stepNumber: 251, stepDescription: "after the move", result: "fail" }],
      });
      expect(recorded.steps[0]?.id).toBe(1001);
      expect(recorded.summary.totalSteps).toBe(1);
      const listed = await listSteps(handle.db, actor, { executionId: Number(oldest?.id) });
      expect(listed).toHaveLength(250);
      expect(listed.at(-1)?.stepDescription).toBe("after the move");
    } finally {
      await handle.close();
    }
  });
});

describe("the migration to the steps' composite foreign key (0028)", () => {
  const { client, url, owner } = databaseMigratedBefore("testtrack_step_fk", 28);

  it("sets keys written off their execution's created_at to it, then holds them there", async () => {
    const { user, project, testCase } = await owner("keys");
    const [execution] = await client`insert into test_executions
      (project_id, test_case_id, user_id, status, created_at)
      values (${project?.id}, ${testCase?.id}, ${user?.id}, 'running',
        '2026-03-31 23:59:59.999999+00') returning id`;
    await client`select testtrack_ensure_step_partition('2026-03-15'), testtrack_ensure_step_partition('2026-04-15')`;
    // Steps 1-2 under the exact key; 3-4 under a key a JS Date made of it: April, not March.
    await client`insert into test_execution_steps (execution_id, execution_created_at, step_number, step_description, result)
      select ${execution?.id}, case when n <= 2 then '2026-03-31 23:59:59.999999+00'::timestamptz
        else '2026-04-01 00:00:00+00'::timestamptz end, n, 'step ' || n, 'pass'
      from generate_series(1, 4) n`;
    const handle = openDatabase({ url });
    try {
      await handle.migrate();
      const rows = await client`select step_number, tableoid::regclass::text as partition,
          (execution_created_at = '2026-03-31 23:59:59.999999+00') as exact
        from test_execution_steps where execution_id = ${execution?.id} order by step_number`;
      expect(rows.map((row) => [row.step_number, row.partition, row.exact])).toEqual([
        [1, "test_execution_steps_p202603", true],
        [2, "test_execution_steps_p202603", true],
        [3, "test_execution_steps_p202603", true],
        [4, "test_execution_steps_p202603", true],
      ]);
      const [gone] =
        await client`select to_regprocedure('testtrack_steps_follow_execution()') is null as fn,
          not exists (select 1 from pg_trigger where tgname = 'test_executions_created_at_moves_steps') as trigger`;
      expect(gone).toEqual({ fn: true, trigger: true });
      const listed = await listSteps(
        handle.db,
        { id: Number(user?.id), role: "member" },
        { executionId: Number(execution?.id) },
      );
      expect(listed.map((step) => step.stepNumber)).toEqual([1, 2, 3, 4]);
    } finally {
      await handle.close();
    }
  });
});

describe("step partitions", () => {
  let h: TestDatabase;
  let actor: Actor;
  let projectId: number;

  beforeAll(async () => {
    h = await openTestDatabase();
    actor = (await createTestUser(h, "admin")).actor;
    projectId = (await createProject(h.db, actor, { slug: "parted", name: "Parted" })).id;
  });
  afterAll(() => h.close());

  /** An execution with `steps` steps whose recording started `daysAgo` days ago. */
  async function executionOf(steps: number, daysAgo: number, result: "pass" | "fail" = "pass") {
    const testCase = await createTestCaseFor(h, actor, { projectId });
    const id = await startExecutionFor(h, actor, testCase.id);
    await recordSteps(h.db, actor, {
      executionId: id,
      steps: Array.from({ length: steps }, (_, i) => ({
        stepNumber: i + 1,
        stepDescription: `step ${i + 1}`,
        result: i === 0 ? result : ("pass" as const),
      })),
      returnSteps: false,
    });
    // Its steps follow (the foreign key's ON UPDATE CASCADE) into that month's partition.
    await h.db.execute(
      sql`select testtrack_ensure_step_partition(now() - ${`${daysAgo} days`}::interval)`,
    );
    await h.db.execute(
      sql`update test_executions set created_at = now() - ${`${daysAgo} days`}::interval where id = ${id}`,
    );
    return id;
  }

  async function planOf(query: { toSQL(): { sql: string; params: unknown[] } }) {
    const { sql: text, params } = query.toSQL();
    const client = postgres(h.url, { max: 1, onnotice: () => {} });
    try {
      const rows = await client.unsafe(
        `explain (analyze, costs off, timing off, summary off) ${text}`,
        params as never[],
      );
      return rows.map((row) => row["QUERY PLAN"]).join("\n");
    } finally {
      await client.end();
    }
  }

  it("reads one execution's steps from its month's partition only, by index", async () => {
    await executionOf(20, 100);
    await executionOf(20, 45);
    const id = await executionOf(30, 0);
    expect((await listStepPartitions(h.db)).length).toBeGreaterThanOrEqual(5);
    const list = await planOf(
      h.db
        .select()
        .from(testExecutionSteps)
        .where(stepsOfExecution(id))
        .orderBy(asc(testExecutionSteps.stepNumber)),
    );
    // Run-time pruning: only the execution's month is read, by its (execution, key, step) index;
    // every other partition is never executed.
    const executed = list.match(/Index Scan using \S+ on (test_execution_steps_\w+) \S+ \(actual/g);
    expect(executed).toHaveLength(1);
    expect(executed?.[0]).toContain(
      `test_execution_steps_p${monthOf(new Date())}_execution_id_step_number_`,
    );
    expect(list).toMatch(/\(never executed\)/);
    expect(list).not.toMatch(/Seq Scan/);
    // The live feed's read (steps after a cursor) is pruned the same way.
    const live = await planOf(
      h.db
        .select()
        .from(testExecutionSteps)
        .where(and(stepsOfExecution(id), gt(testExecutionSteps.id, 0)))
        .orderBy(asc(testExecutionSteps.stepNumber)),
    );
    expect(live.match(/Scan using \S+ on test_execution_steps_\w+ \S+ \(actual/g)).toHaveLength(1);
    // step.list, execution.get and the live feed read the key with their access check
    // (partitionKeyOf, text keeps the microseconds): one partition is planned, none pruned later.
    const [row] = await h.db
      .select({ key: partitionKeyOf })
      .from(testExecutions)
      .where(eq(testExecutions.id, id));
    const partition = partitionOf(String(row?.key));
    expect(partition.partitionTable).toBe(`test_execution_steps_p${monthOf(new Date())}`);
    const keyed = await planOf(
      h.db
        .select()
        .from(testExecutionSteps)
        .where(stepsOfExecution(id, partition))
        .orderBy(asc(testExecutionSteps.stepNumber)),
    );
    expect(keyed).toMatch(
      new RegExp(`Index Scan using test_execution_steps_p${monthOf(new Date())}_execution_id`),
    );
    expect(keyed).not.toMatch(/never executed|Subplans Removed|test_executions/);
    expect(keyed).not.toMatch(
      new RegExp(`test_execution_steps_(default|p(?!${monthOf(new Date())})\\d{6})`),
    );
    // They read the partition by its name (the planner does not expand the parent), under the
    // parent's name as alias; through the parent the plan would name it test_execution_steps_1.
    const steps = executionSteps(id, partition);
    const direct = h.db
      .select()
      .from(steps.table)
      .where(steps.where)
      .orderBy(asc(testExecutionSteps.stepNumber));
    expect(direct.toSQL().sql).toContain(
      `from "test_execution_steps_p${monthOf(new Date())}" "test_execution_steps" where "test_execution_steps"."execution_id" = $1 order by`,
    );
    expect(await planOf(direct)).toMatch(
      new RegExp(
        `^Index Scan using test_execution_steps_p${monthOf(new Date())}_execution_id\\S+ on test_execution_steps_p${monthOf(new Date())} test_execution_steps \\(actual`,
      ),
    );
    expect((await direct).map((step) => step.stepNumber)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    // step.record's duplicate check knows the key (a PL/pgSQL variable): one partition is planned.
    const [key] = await queryRows<{ at: string }>(
      h,
      sql`select created_at::text as at from test_executions where id = ${id}`,
    );
    const check = await planOf({
      toSQL: () => ({
        sql: `select 1 from test_execution_steps s
              where s.execution_id = $1 and s.execution_created_at = $2::timestamptz and s.step_number = $3`,
        params: [id, key?.at, 7],
      }),
    });
    expect(check).toMatch(
      new RegExp(`Index Only Scan using test_execution_steps_p${monthOf(new Date())}_execution_id`),
    );
    expect(check).not.toMatch(
      new RegExp(`test_execution_steps_(default|p(?!${monthOf(new Date())})\\d{6})`),
    );
    // And the answers through every reader are complete.
    expect(await listSteps(h.db, actor, { executionId: id })).toHaveLength(30);
    expect((await getExecution(h.db, actor, { id })).steps).toHaveLength(30);
    expect((await executionStepsSince(h.db, actor, id, 0)).steps).toHaveLength(30);
  });

  it("keeps a step whose month has no partition in the default one, then moves it into its month", async () => {
    const id = await executionOf(3, 0);
    // Far ahead of the partitions made so far: its steps wait in the default partition. With
    // microseconds, as now() gives them: a JS Date keeps milliseconds only, so a key that went
    // through one would find none of its steps through the parent.
    await h.db.execute(
      sql`update test_executions set created_at = '2031-05-10T12:00:00.123456Z' where id = ${id}`,
    );
    const [waiting] = await queryRows<{ n: number }>(
      h,
      sql`select count(*)::int as n from test_execution_steps_default where execution_id = ${id}`,
    );
    expect(waiting?.n).toBe(3);
    // No partition of its month: the readers name it, find it missing and read through the
    // parent; step.update, in a transaction, recounts from the partition its step was found in,
    // the default one.
    const partitionExists = async () =>
      (
        await queryRows<{ exists: boolean }>(
          h,
          sql`select to_regclass('test_execution_steps_p203105') is not null as exists`,
        )
      )[0]?.exists;
    expect(await partitionExists()).toBe(false);
    const ids = (await listSteps(h.db, actor, { executionId: id })).map((s) => s.id);
    expect(ids).toHaveLength(3);
    expect((await getExecution(h.db, actor, { id })).steps).toHaveLength(3);
    expect((await executionStepsSince(h.db, actor, id, 0)).steps).toHaveLength(3);
    const updated = await updateStep(h.db, actor, { id: ids[1] as number, result: "fail" });
    expect(updated.summary).toMatchObject({ totalSteps: 3, failedSteps: 1, result: "fail" });
    await h.db.execute(sql`select testtrack_ensure_step_partition('2031-05-01T00:00:00Z')`);
    const [moved] = await queryRows<{ n: number; left: number }>(
      h,
      sql`select (select count(*) from test_execution_steps_p203105 where execution_id = ${id})::int as n,
            (select count(*) from test_execution_steps_default)::int as left`,
    );
    expect(moved).toEqual({ n: 3, left: 0 });
    expect(await partitionExists()).toBe(true);
    expect((await listSteps(h.db, actor, { executionId: id })).map((s) => s.id)).toEqual(ids);
    // And from its month's partition once the steps are there.
    const again = await updateStep(h.db, actor, { id: ids[2] as number, result: "skip" });
    expect(again.summary).toMatchObject({ totalSteps: 3, failedSteps: 1, skippedSteps: 1 });
    await h.db.execute(sql`delete from test_executions where id = ${id}`);
    // Creating partitions is idempotent.
    await ensureStepPartitions(h.db);
    expect(await ensureStepPartitions(h.db)).toBe(0);
  });

  it("reads through the parent when retention dropped the partition after its name was read", async () => {
    const id = await executionOf(6, 200);
    const [row] = await h.db
      .select({ key: partitionKeyOf })
      .from(testExecutions)
      .where(eq(testExecutions.id, id));
    const partition = partitionOf(String(row?.key));
    if (!partition.partitionTable) throw new Error("the execution's month has no partition");
    const read = (p: ExecutionPartition) => readSteps(h.db, id, p);
    expect(await read(partition)).toHaveLength(6);
    // Retention drops that month (and any older one) between the two reads.
    await h.db.execute(
      sql`select testtrack_drop_step_partitions(p.to_at) from testtrack_step_partitions() p
          where p.name = ${partition.partitionTable}`,
    );
    const dropped = await queryRows<{ oid: string | null }>(
      h,
      sql`select to_regclass(${`public.${partition.partitionTable}`})::text as oid`,
    );
    expect(dropped[0]?.oid).toBeNull();
    // The name read before is stale: the read does not fail, it finds the steps gone.
    expect(await read(partition)).toEqual([]);
    expect(await listSteps(h.db, actor, { executionId: id })).toEqual([]);
    await h.db.execute(sql`delete from test_executions where id = ${id}`);
  });

  it("holds every step's key to its execution's created_at, so a read by execution alone is exact", async () => {
    const id = await executionOf(2, 10);
    const [row] = await queryRows<{ created: string }>(
      h,
      sql`select created_at::text as created from test_executions where id = ${id}`,
    );
    // A step filed under another month than its execution's is refused by the foreign key.
    const stray = h.db.execute(
      sql`insert into test_execution_steps (execution_id, execution_created_at, step_number,
            step_description, result)
          values (${id}, ${row?.created}::timestamptz - interval '40 days', 3, 'stray', 'pass')`,
    );
    const foreignKeyViolation = (error: unknown) => hasErrorCode(error, "23503");
    await expect(stray.catch(foreignKeyViolation)).resolves.toBe(true);
    const moved = h.db.execute(
      sql`update test_execution_steps set execution_created_at = execution_created_at - interval '40 days'
          where execution_id = ${id}`,
    );
    await expect(moved.catch(foreignKeyViolation)).resolves.toBe(true);
    // The execution's own update carries its steps along (ON UPDATE CASCADE), across months.
    await h.db.execute(
      sql`update test_executions set created_at = created_at - interval '40 days' where id = ${id}`,
    );
    const [steps] = await queryRows<{ n: number; keys: number }>(
      h,
      sql`select count(*)::int as n, count(*) filter (where s.execution_created_at = e.created_at)::int as keys
          from test_execution_steps s join test_executions e on e.id = s.execution_id
          where s.execution_id = ${id}`,
    );
    expect(steps).toEqual({ n: 2, keys: 2 });
    expect(await listSteps(h.db, actor, { executionId: id })).toHaveLength(2);
    await h.db.execute(sql`delete from test_executions where id = ${id}`);
  });

  it("drops whole months past the instance-wide horizon, deletes their executions, and keeps statistics exact", async () => {
    const old = [await executionOf(40, 120), await executionOf(10, 110, "fail")];
    const edge = await executionOf(15, 61);
    const kept = await executionOf(5, 3);
    const oldMonth = `test_execution_steps_p${monthOf(new Date(Date.now() - 120 * DAY))}`;
    const plan = await previewRetention(h.db, { instanceRetentionDays: 60 });
    expect(plan.instance?.partitions.map((p) => p.name)).toContain(oldMonth);
    expect(plan.instance?.executions).toBeGreaterThanOrEqual(3);
    // A preview deletes nothing.
    expect((await listStepPartitions(h.db)).map((p) => p.name)).toContain(oldMonth);

    const outcome = await applyRetention(h.db, { instanceRetentionDays: 60, pauseMs: 0 });
    expect(outcome.partitionsDropped).toContain(oldMonth);
    expect((await listStepPartitions(h.db)).map((p) => p.name)).not.toContain(oldMonth);
    const survivors = await queryRows<{ id: number }>(
      h,
      sql`select id from test_executions where id = any(${`{${[...old, edge, kept].join(",")}}`}::int[])`,
    );
    expect(survivors.map((row) => row.id)).toEqual([kept]);
    const [orphans] = await queryRows<{ n: number }>(
      h,
      sql`select count(*)::int as n from test_execution_steps s
          where not exists (select 1 from test_executions e where e.id = s.execution_id)`,
    );
    expect(orphans?.n).toBe(0);
    for (const scope of [{ projectId }, {}]) {
      expect(await executionStatistics(h.db, actor, scope)).toEqual(
        await rawExecutionStatistics(h.db, actor, scope),
      );
    }
    expect(await listSteps(h.db, actor, { executionId: kept })).toHaveLength(5);
    // Nothing more to do.
    expect(await applyRetention(h.db, { instanceRetentionDays: 60, pauseMs: 0 })).toMatchObject({
      partitionsDropped: [],
      executions: 0,
      batches: 0,
    });
  });

  it("deletes artifacts of passed executions sooner than those of failed ones", async () => {
    const project = await createProject(h.db, actor, { slug: "shots", name: "Shots" });
    await updateProject(h.db, actor, {
      id: project.id,
      artifactRetentionDays: { passed: 2, failed: 30 },
    });
    const passed = await executionOf(1, 0, "pass");
    const failed = await executionOf(1, 0, "fail");
    await h.db.execute(
      sql`update test_executions set project_id = ${project.id}, result = case when id = ${passed} then 'pass'::execution_result else 'fail'::execution_result end
          where id in (${passed}, ${failed})`,
    );
    for (const [execution, age] of [
      [passed, 5],
      [passed, 1],
      [failed, 5],
    ] as const) {
      await h.db.execute(
        sql`insert into artifacts (project_id, execution_id, kind, name, content_type, size, sha256, storage_key, created_at)
            values (${project.id}, ${execution}, 'screenshot', 'shot.png', 'image/png', 100, repeat('0', 64),
              ${`test/${execution}/${age}/${randomBytes(4).toString("hex")}`}, now() - ${`${age} days`}::interval)`,
      );
    }
    const plan = await previewRetention(h.db);
    expect(plan.artifacts).toEqual([
      {
        projectId: project.id,
        slug: "shots",
        passedDays: 2,
        failedDays: 30,
        artifacts: 1,
        bytes: 100,
      },
    ]);
    const outcome = await applyRetention(h.db, { pauseMs: 0 });
    expect(outcome.artifacts).toBe(1);
    const left = await queryRows<{ execution_id: number; age: number }>(
      h,
      sql`select execution_id, round(extract(epoch from now() - created_at) / 86400)::int as age
          from artifacts where project_id = ${project.id} order by execution_id, age`,
    );
    expect(left).toEqual([
      { execution_id: passed, age: 1 },
      { execution_id: failed, age: 5 },
    ]);
    // The bytes of the deleted one are queued for removal from the store.
    const [queued] = await queryRows<{ n: number }>(
      h,
      sql`select count(*)::int as n from artifact_deletions where storage_key like ${`test/${passed}/5/%`}`,
    );
    expect(queued?.n).toBe(1);
  });
});
