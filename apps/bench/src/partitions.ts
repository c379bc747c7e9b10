/**
 * Steps partitioned by month against the same steps in one plain table, side by side in one
 * database: bulk load, insert batches, one execution's steps, its summary counts, a month's
 * aggregate, and retention of one month (DROP of its partition against DELETE of its rows).
 * Both tables have the columns and keys test_execution_steps had before migration 0025 and has
 * after 0028 (the partition key held to the execution's created_at by the foreign key).
 */
import type { DatabaseHandle } from "@testtrack/core";
import { sql } from "drizzle-orm";
import { compare, once } from "./measure";
import { execute } from "./seed";

export interface PartitionFigure {
  name: string;
  /** Partitioned. */
  value: number;
  /** The plain table. */
  baseline: number;
  unit: string;
  /** true when lower is better (times); false for rates. */
  lowerIsBetter: boolean;
}

const MONTHS = 12;
const STEPS_PER_EXECUTION = 100;

/** Months back from the current one, as SQL: the first instant (UTC) of that month. */
const monthStart = (back: number) =>
  sql.raw(
    `((date_trunc('month', now() at time zone 'UTC') - interval '${back} months') at time zone 'UTC')`,
  );

export async function measurePartitions(
  database: DatabaseHandle,
  steps: number,
  onProgress: (message: string) => void,
): Promise<PartitionFigure[]> {
  const executions = Math.max(MONTHS, Math.round(steps / STEPS_PER_EXECUTION));
  const perMonth = Math.ceil(executions / MONTHS);
  const run = (query: ReturnType<typeof sql>) => execute(database, query);
  await run(sql`drop schema if exists partition_bench cascade`);
  await run(sql`create schema partition_bench`);
  // Executions spread evenly over the last 12 months, oldest first.
  await run(
    sql`create table partition_bench.executions (id int primary key, created_at timestamptz not null,
      unique (id, created_at))`,
  );
  await run(sql`insert into partition_bench.executions
    select g, ${monthStart(MONTHS - 1)} + ((g - 1) / ${perMonth}::int) * interval '1 month'
      + ((g - 1) % ${perMonth}::int) * (interval '27 days' / ${perMonth}::int)
    from generate_series(1, ${executions}::int) g`);
  const columns = sql.raw(`
    execution_id int not null,
    execution_created_at timestamptz not null,
    step_number int not null,
    step_description text not null,
    result execution_result not null,
    duration_seconds float8,
    created_at timestamptz not null default now()`);
  await run(sql`create table partition_bench.plain (
    id int generated always as identity primary key, ${columns},
    unique (execution_id, step_number),
    foreign key (execution_id) references partition_bench.executions(id) on delete cascade)`);
  await run(sql`create table partition_bench.parted (
    id int generated always as identity, ${columns},
    primary key (id, execution_created_at),
    unique (execution_id, step_number, execution_created_at),
    foreign key (execution_id, execution_created_at)
      references partition_bench.executions(id, created_at) on delete cascade on update cascade)
    partition by range (execution_created_at)`);
  // Named by their UTC month as the server names test_execution_steps' partitions.
  const oldest = (
    await run(
      sql`select 'parted_p' || to_char(${monthStart(MONTHS - 1)} at time zone 'UTC', 'YYYYMM') as name`,
    )
  )[0]?.name as string;
  for (let back = MONTHS - 1; back >= -1; back--) {
    await run(sql`do $$ begin execute format(
      'create table partition_bench.%I partition of partition_bench.parted for values from (%L) to (%L)',
      'parted_p' || to_char(${monthStart(back)} at time zone 'UTC', 'YYYYMM'),
      ${monthStart(back)}, ${monthStart(back - 1)}); end $$`);
  }

  const figures: PartitionFigure[] = [];
  // The two tables load chunk by chunk in turns, so checkpoints and autovacuum weigh on both.
  // Each execution's steps are written together, in order, as a recorder writes them (a batch
  // per call): without the ORDER BY the planner's join wrote step 1 of every execution of the
  // chunk, then step 2, so one execution's 100 steps lay on 100 heap pages, and every read of
  // one execution measured 100 page fetches from the OS cache on either table.
  const loadMs = { plain: 0, parted: 0 };
  const chunk = Math.max(1, Math.floor(1_000_000 / STEPS_PER_EXECUTION));
  for (let from = 1; from <= executions; from += chunk) {
    for (const table of ["plain", "parted"] as const) {
      onProgress(
        `partitions: loading ${((from - 1) * STEPS_PER_EXECUTION).toLocaleString("en")} / ${(executions * STEPS_PER_EXECUTION).toLocaleString("en")} steps into each table`,
      );
      loadMs[table] += await once(() =>
        run(sql`insert into partition_bench.${sql.raw(table)}
          (execution_id, execution_created_at, step_number, step_description, result, duration_seconds)
          select e.id, e.created_at, s, 'Step ' || s, (case when s % 10 = 0 then 'fail' else 'pass' end)::execution_result, 0.5
          from partition_bench.executions e cross join generate_series(1, ${STEPS_PER_EXECUTION}::int) s
          where e.id between ${from}::int and ${Math.min(executions, from + chunk - 1)}::int
          order by e.id, s`),
      );
    }
  }
  const total = executions * STEPS_PER_EXECUTION;
  figures.push({
    name: `bulk load of ${total.toLocaleString("en")} steps`,
    value: Math.round(total / (loadMs.parted / 1000)),
    baseline: Math.round(total / (loadMs.plain / 1000)),
    unit: "rows/s",
    lowerIsBetter: false,
  });
  await run(sql`vacuum analyze partition_bench.plain`);
  await run(sql`vacuum analyze partition_bench.parted`);
  // The load's dirty pages written out now, not by a checkpoint in the middle of the reads.
  await run(sql`checkpoint`);

  // Inserts: 1,000-step batches of new executions of this month, taking turns.
  const batches = 200;
  await run(sql`insert into partition_bench.executions
    select ${executions}::int + g, now() from generate_series(1, ${batches * 2 + 6}::int) g`);
  let next = executions;
  const insertBatch = (table: "plain" | "parted") => async () => {
    next += 1;
    const rows = Array.from({ length: 1_000 }, (_, k) => ({
      step_number: k + 1,
      step_description: `Step ${k + 1}`,
      result: "pass",
      duration_seconds: 0.1,
    }));
    await run(sql`insert into partition_bench.${sql.raw(table)}
      (execution_id, execution_created_at, step_number, step_description, result, duration_seconds)
      select e.id, e.created_at, r.step_number, r.step_description, r.result, r.duration_seconds
      from partition_bench.executions e,
        json_to_recordset(${JSON.stringify(rows)}::json) as r(step_number int, step_description text, result execution_result, duration_seconds float8)
      where e.id = ${next}::int`);
  };
  const inserts = await compare(batches, {
    plain: insertBatch("plain"),
    parted: insertBatch("parted"),
  });
  figures.push({
    name: "insert a 1,000-step batch (p50)",
    value: inserts.parted.p50,
    baseline: inserts.plain.p50,
    unit: "ms",
    lowerIsBetter: true,
  });

  // Reads of one execution (any month), as step.list, execution.get and the summary recount do
  // them: the execution's row first (the access check), then its steps. On the partitioned table
  // that first read also returns created_at in UTC as text (partitionKeyOf), which names the
  // month's partition (partitionOf), and the steps are read from it by name (executionSteps).
  // Measured reads (i >= 0) pick executions with an odd id, warm-up reads (i < 0) even ones, both
  // spread over every month, so the pages of a measured one are not in shared buffers because
  // its warm-up read put them there.
  const half = Math.floor(executions / 2);
  const pick = (i: number) => 1 + 2 * ((Math.abs(i) * 7919) % half) + (i < 0 ? 1 : 0);
  // A running server reads in its steady state: each statement it has run a few times on a
  // connection runs on its generic plan (every statement is prepared; PostgreSQL plans the first
  // five runs of each anew), and the upper pages of the indexes it reads are in shared buffers.
  // The partitioned reads have a statement per month, so they take 12 times the runs to get
  // there: after the 3 warm-up reads used before, many of the 400 measured partitioned reads
  // were still planned anew or found their partition's upper index pages out of shared buffers
  // (at 10M steps: 1.10x and 1.11x the plain table; 1.06x and 1.06x after 1,000). Both sides get
  // the same warm-up, enough for 8 connections and 14 partitions.
  const warmup = 1_000;
  // Each read takes 0.2-0.5 ms, and a partitioned and a plain one differ by tens of us: 2,000
  // each (400 before) keep one run's p50 from moving with a burst of other work.
  const reads = 2_000;
  type Where = { from: ReturnType<typeof sql>; where: ReturnType<typeof sql> };
  const ofExecution = async (table: "plain" | "parted", id: number): Promise<Where> => {
    if (table === "plain") {
      await run(sql`select id from partition_bench.executions where id = ${id}::int`);
      return { from: sql`partition_bench.plain`, where: sql`execution_id = ${id}::int` };
    }
    const [row] = await run(sql`select id, (created_at at time zone 'UTC')::text as key
      from partition_bench.executions where id = ${id}::int`);
    const key = String(row?.key);
    return {
      from: sql`partition_bench.${sql.identifier(`parted_p${key.slice(0, 4)}${key.slice(5, 7)}`)}`,
      where: sql`execution_id = ${id}::int`,
    };
  };
  const readSteps = async (table: "plain" | "parted", id: number) => {
    const { from, where } = await ofExecution(table, id);
    return run(sql`select * from ${from} where ${where} order by step_number`);
  };
  const lists = await compare(
    reads,
    {
      plain: (i) => readSteps("plain", pick(i)),
      parted: (i) => readSteps("parted", pick(i)),
    },
    warmup,
  );
  figures.push({
    name: `one execution's ${STEPS_PER_EXECUTION} steps in order, after its row (p50)`,
    value: lists.parted.p50,
    baseline: lists.plain.p50,
    unit: "ms",
    lowerIsBetter: true,
  });
  const counts = (from: ReturnType<typeof sql>, where: ReturnType<typeof sql>) =>
    run(sql`select count(*) filter (where result = 'pass') as passed,
      count(*) filter (where result = 'fail') as failed, count(*) as total
      from ${from} where ${where}`);
  const recount = async (table: "plain" | "parted", id: number) => {
    const { from, where } = await ofExecution(table, id);
    return counts(from, where);
  };
  const summaries = await compare(
    reads,
    {
      plain: (i) => recount("plain", pick(i)),
      parted: (i) => recount("parted", pick(i)),
    },
    warmup,
  );
  figures.push({
    name: "one execution's summary counts, after its row (p50)",
    value: summaries.parted.p50,
    baseline: summaries.plain.p50,
    unit: "ms",
    lowerIsBetter: true,
  });
  // A month's aggregate over its steps (the plain table finds the month through its executions).
  // The month's bounds are constants, as a caller's dates are: written as the expressions of
  // monthStart, now() being only stable, they were computed again for every row the filter read,
  // which cost the partition's seq scan 60 % of its time.
  const [bounds] = await run(
    sql`select ${monthStart(3)}::text as "from", ${monthStart(2)}::text as "to"`,
  );
  const from = sql`${String(bounds?.from)}::timestamptz`;
  const to = sql`${String(bounds?.to)}::timestamptz`;
  const month = await compare(
    7,
    {
      plain: () =>
        counts(
          sql`partition_bench.plain`,
          sql`execution_id in (select id from partition_bench.executions where created_at >= ${from} and created_at < ${to})`,
        ),
      parted: () =>
        counts(
          sql`partition_bench.parted`,
          sql`execution_created_at >= ${from} and execution_created_at < ${to}`,
        ),
    },
    1,
  );
  figures.push({
    name: "aggregate one month's steps (p50)",
    value: month.parted.p50,
    baseline: month.plain.p50,
    unit: "ms",
    lowerIsBetter: true,
  });

  // Retention of the oldest month: its partition dropped, against deleting the same rows.
  onProgress("partitions: deleting the oldest month");
  const deleteMs = await once(() =>
    run(sql`delete from partition_bench.plain where execution_id in (
      select id from partition_bench.executions where created_at < ${monthStart(MONTHS - 2)})`),
  );
  const dropMs = await once(() => run(sql`drop table partition_bench.${sql.identifier(oldest)}`));
  figures.push({
    name: `retention of one month (${perMonth * STEPS_PER_EXECUTION} steps): DROP partition vs DELETE`,
    value: dropMs,
    baseline: deleteMs,
    unit: "ms",
    lowerIsBetter: true,
  });
  await run(sql`drop schema partition_bench cascade`);
  return figures;
}
