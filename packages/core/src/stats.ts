import { and, eq, gte, inArray, lt, type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { z } from "zod";
import { type Actor, readScopeOf } from "./actor";
import type { Database } from "./db";
import { id, isoDateTime, LATEST_DATE } from "./limits";
import {
  EXECUTION_RESULTS,
  EXECUTION_STATUSES,
  type ExecutionResult,
  type ExecutionStatus,
  executionDailyStats,
  executionDailyTestCases,
  executionHourlyCounts,
  executionTestCaseTotals,
  executionTotals,
  testCases,
  testExecutions,
} from "./schema";

/**
 * Executions are stamped by the database clock, so none is later than this: a later `since`
 * answers the same (nothing), and the day arithmetic below stays inside the supported range.
 */
const LATEST_SINCE = new Date(LATEST_DATE.getTime() - 2 * 86_400_000);

export const statisticsInput = z
  .strictObject({
    /** One project's statistics; without it the token's or personal project (admins: all). */
    projectId: id.optional(),
    testCaseId: id.optional(),
    since: isoDateTime
      .transform((since) => (since > LATEST_SINCE ? LATEST_SINCE : since))
      .optional(),
  })
  .default({});

/** The key used in byBrowser / byEnvironment for executions that did not say. */
export const UNSPECIFIED = "unspecified";
export const MOST_EXECUTED_LIMIT = 10;

export interface ExecutionStatistics {
  totalExecutions: number;
  byStatus: Record<ExecutionStatus, number>;
  byResult: Record<ExecutionResult, number>;
  byBrowser: Record<string, number>;
  byEnvironment: Record<string, number>;
  /** Percentage of decided executions (pass, fail or error) that passed; 0 when none. */
  passRate: number;
  averageDurationSeconds: number | null;
  totalDurationHours: number;
  executionsLast24h: number;
  executionsLast7d: number;
  executionsLast30d: number;
  mostExecutedTests: { testCaseId: number; title: string; count: number }[];
}

type Dimension = "status" | "result" | "browser" | "environment";

/** Counts over a set of executions, as both the raw table and the roll-ups can give them. */
interface Tally {
  total: number;
  durationSum: number;
  durationCount: number;
  values: Record<Dimension, Map<string, number>>;
  perTestCase: Map<number, number>;
}

const HOUR_MS = 60 * 60 * 1000;
const DAY_MS = 24 * HOUR_MS;
const WINDOWS_DAYS = [1, 7, 30] as const;

function emptyTally(): Tally {
  return {
    total: 0,
    durationSum: 0,
    durationCount: 0,
    values: { status: new Map(), result: new Map(), browser: new Map(), environment: new Map() },
    perTestCase: new Map(),
  };
}

function add(map: Map<string | number, number>, key: string | number, n: number) {
  map.set(key, (map.get(key) ?? 0) + n);
}

function mergeTallies(a: Tally, b: Tally): Tally {
  const merged = emptyTally();
  for (const t of [a, b]) {
    merged.total += t.total;
    merged.durationSum += t.durationSum;
    merged.durationCount += t.durationCount;
    for (const dimension of Object.keys(t.values) as Dimension[]) {
      for (const [value, n] of t.values[dimension]) add(merged.values[dimension], value, n);
    }
    for (const [testCaseId, n] of t.perTestCase) add(merged.perTestCase, testCaseId, n);
  }
  return merged;
}

/** The UTC midnight after `at`: roll-ups cover whole UTC days from there on. */
function nextUtcDay(at: Date): Date {
  return new Date(Math.floor(at.getTime() / DAY_MS) * DAY_MS + DAY_MS);
}

/** The start of the hour after `at`'s own, or `at` itself when it starts an hour. */
function nextUtcHour(at: Date): Date {
  return new Date(Math.ceil(at.getTime() / HOUR_MS) * HOUR_MS);
}

/** One project's rows, or every project's (null: an admin's view). */
const inProject = (project: number | null, column: PgColumn) =>
  project === null ? undefined : eq(column, project);

const isoDay = (at: Date) => at.toISOString().slice(0, 10);
const timestamp = (at: Date) => sql`${at.toISOString()}::timestamptz`;

/** Aggregates straight from test_executions: for small sets (one test case, part of a day). */
async function rawTally(db: Database, where: SQL | undefined): Promise<Tally> {
  const e = testExecutions;
  const [[totals], values, perTestCase] = await Promise.all([
    db
      .select({
        total: sql<number>`count(*)::int`,
        durationSum: sql<number>`coalesce(sum(${e.durationSeconds}), 0)::float8`,
        durationCount: sql<number>`count(${e.durationSeconds})::int`,
      })
      .from(e)
      .where(where),
    db
      .select({
        dimension: sql<Dimension>`d.dimension`,
        value: sql<string>`d.value`,
        n: sql<number>`count(*)::int`,
      })
      .from(e)
      .innerJoin(
        sql`lateral (values ('status', ${e.status}::text), ('result', coalesce(${e.result}::text, 'none')),
          ('browser', coalesce(${e.browser}, ${UNSPECIFIED})), ('environment', coalesce(${e.environment}, ${UNSPECIFIED})))
          as d(dimension, value)`,
        sql`true`,
      )
      .where(where)
      .groupBy(sql`1`, sql`2`),
    db
      .select({ testCaseId: e.testCaseId, n: sql<number>`count(*)::int` })
      .from(e)
      .where(where)
      .groupBy(e.testCaseId),
  ]);
  const tally = emptyTally();
  tally.total = totals?.total ?? 0;
  tally.durationSum = totals?.durationSum ?? 0;
  tally.durationCount = totals?.durationCount ?? 0;
  for (const row of values) add(tally.values[row.dimension], row.value, row.n);
  for (const row of perTestCase) add(tally.perTestCase, row.testCaseId, row.n);
  return tally;
}

/** Aggregates from the daily roll-ups, for whole UTC days from `fromDay` on. */
async function rollupTally(
  db: Database,
  project: number | null,
  fromDay: string | undefined,
  testCaseLimit: number | undefined,
): Promise<Tally> {
  // All-time totals when counting from the beginning; daily rows from a given day on.
  const s = fromDay ? executionDailyStats : executionTotals;
  const c = fromDay ? executionDailyTestCases : executionTestCaseTotals;
  const since = (day: PgColumn) => (fromDay ? gte(day, fromDay) : undefined);
  const perTestCaseQuery = db
    .select({ testCaseId: c.testCaseId, n: sql<number>`sum(${c.executions})::int` })
    .from(c)
    .where(and(inProject(project, c.projectId), since(executionDailyTestCases.day)))
    .groupBy(c.testCaseId)
    .having(sql`sum(${c.executions}) > 0`)
    .orderBy(sql`2 desc`, c.testCaseId);
  const [rows, perTestCase] = await Promise.all([
    db
      .select({
        dimension: s.dimension,
        value: s.value,
        n: sql<number>`sum(${s.executions})::int`,
        durationSum: sql<number>`sum(${s.durationSum})::float8`,
        durationCount: sql<number>`sum(${s.durationCount})::int`,
      })
      .from(s)
      .where(and(inProject(project, s.projectId), since(executionDailyStats.day)))
      .groupBy(s.dimension, s.value),
    testCaseLimit === undefined ? perTestCaseQuery : perTestCaseQuery.limit(testCaseLimit),
  ]);
  const tally = emptyTally();
  for (const row of rows) {
    if (row.dimension === "total") {
      tally.total = row.n;
      tally.durationSum = row.durationSum;
      tally.durationCount = row.durationCount;
    } else if (row.n !== 0) {
      add(tally.values[row.dimension as Dimension], row.value, row.n);
    }
  }
  for (const row of perTestCase) add(tally.perTestCase, row.testCaseId, row.n);
  return tally;
}

/** How many of the project's executions were created at or after each cutoff. */
async function countsSince(
  db: Database,
  project: number | null,
  cutoffs: Date[],
  useRollups: boolean,
  where: SQL | undefined,
): Promise<number[]> {
  const e = testExecutions;
  if (!useRollups) {
    const [row] = await db
      .select(
        Object.fromEntries(
          cutoffs.map((cutoff, i) => [
            `c${i}`,
            sql<number>`count(*) filter (where ${e.createdAt} >= ${timestamp(cutoff)})::int`,
          ]),
        ),
      )
      .from(e)
      .where(where);
    return cutoffs.map((_, i) =>
      Number((row as Record<string, number> | undefined)?.[`c${i}`] ?? 0),
    );
  }
  // Whole days after each cutoff from the daily roll-ups, whole hours of the cutoff's own day
  // from the hourly counts, and only the rest of the cutoff's own hour from the table.
  const s = executionDailyStats;
  const hourly = executionHourlyCounts;
  const earliest = new Date(Math.min(...cutoffs.map((c) => c.getTime())));
  const hoursOfDay = (cutoff: Date) =>
    sql`(${hourly.hour} >= ${timestamp(nextUtcHour(cutoff))} and ${hourly.hour} < ${timestamp(nextUtcDay(cutoff))})`;
  const partial = (cutoff: Date) =>
    sql`(${e.createdAt} >= ${timestamp(cutoff)} and ${e.createdAt} < ${timestamp(nextUtcHour(cutoff))})`;
  const [[days], [hours], [rest]] = await Promise.all([
    db
      .select(
        Object.fromEntries(
          cutoffs.map((cutoff, i) => [
            `c${i}`,
            sql<number>`coalesce(sum(${s.executions}) filter (where ${s.day} >= ${isoDay(nextUtcDay(cutoff))}), 0)::int`,
          ]),
        ),
      )
      .from(s)
      .where(
        and(
          inProject(project, s.projectId),
          eq(s.dimension, "total"),
          gte(s.day, isoDay(nextUtcDay(earliest))),
        ),
      ),
    db
      .select(
        Object.fromEntries(
          cutoffs.map((cutoff, i) => [
            `c${i}`,
            sql<number>`coalesce(sum(${hourly.executions}) filter (where ${hoursOfDay(cutoff)}), 0)::int`,
          ]),
        ),
      )
      .from(hourly)
      .where(
        and(
          inProject(project, hourly.projectId),
          sql`(${sql.join(cutoffs.map(hoursOfDay), sql` or `)})`,
        ),
      ),
    db
      .select(
        Object.fromEntries(
          cutoffs.map((cutoff, i) => [
            `c${i}`,
            sql<number>`count(*) filter (where ${partial(cutoff)})::int`,
          ]),
        ),
      )
      .from(e)
      .where(and(where, sql`(${sql.join(cutoffs.map(partial), sql` or `)})`)),
  ]);
  const read = (row: unknown, i: number) =>
    Number((row as Record<string, number> | undefined)?.[`c${i}`] ?? 0);
  return cutoffs.map((_, i) => read(days, i) + read(hours, i) + read(rest, i));
}

async function titlesOf(db: Database, ids: number[]): Promise<Map<number, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .select({ id: testCases.id, title: testCases.title })
    .from(testCases)
    .where(inArray(testCases.id, ids));
  return new Map(rows.map((row) => [row.id, row.title]));
}

async function toStatistics(
  db: Database,
  tally: Tally,
  windows: number[],
): Promise<ExecutionStatistics> {
  const top = [...tally.perTestCase]
    .filter(([, n]) => n > 0)
    .sort(([a, x], [b, y]) => y - x || a - b)
    .slice(0, MOST_EXECUTED_LIMIT);
  const titles = await titlesOf(
    db,
    top.map(([testCaseId]) => testCaseId),
  );
  const count = (dimension: Dimension, key: string) => tally.values[dimension].get(key) ?? 0;
  const byStatus = Object.fromEntries(
    EXECUTION_STATUSES.map((s) => [s, count("status", s)]),
  ) as Record<ExecutionStatus, number>;
  const byResult = Object.fromEntries(
    EXECUTION_RESULTS.map((r) => [r, count("result", r)]),
  ) as Record<ExecutionResult, number>;
  const labelled = (dimension: Dimension) =>
    Object.fromEntries(
      [...tally.values[dimension]]
        .filter(([, n]) => n > 0)
        .sort(([a, x], [b, y]) => y - x || a.localeCompare(b)),
    );
  const decided = byResult.pass + byResult.fail + byResult.error;
  // Roll-ups add and subtract durations over time; round away the floating-point residue.
  const durationSum = round(tally.durationSum, 6);
  return {
    totalExecutions: tally.total,
    byStatus,
    byResult,
    byBrowser: labelled("browser"),
    byEnvironment: labelled("environment"),
    passRate: decided === 0 ? 0 : round((byResult.pass / decided) * 100, 2),
    averageDurationSeconds:
      tally.durationCount === 0 ? null : round(durationSum / tally.durationCount, 3),
    totalDurationHours: round(durationSum / 3600, 4),
    executionsLast24h: windows[0] ?? 0,
    executionsLast7d: windows[1] ?? 0,
    executionsLast30d: windows[2] ?? 0,
    mostExecutedTests: top
      .filter(([testCaseId]) => titles.has(testCaseId))
      .map(([testCaseId, n]) => ({ testCaseId, title: titles.get(testCaseId) ?? "", count: n })),
  };
}

function windowCutoffs(now: Date, since: Date | undefined): Date[] {
  return WINDOWS_DAYS.map((days) => {
    const cutoff = new Date(now.getTime() - days * DAY_MS);
    return since && since > cutoff ? since : cutoff;
  });
}

/**
 * Every figure of the seed's ExecutionStatistics for one project's executions (or, for an
 * admin naming none, every project's). Whole days come from
 * the daily roll-ups (a few hundred rows whatever the history), the partial first day and
 * single test cases from the executions table through its indexes.
 */
export async function executionStatistics(
  db: Database,
  actor: Actor,
  raw: z.input<typeof statisticsInput>,
  now = new Date(),
): Promise<ExecutionStatistics> {
  const input = statisticsInput.parse(raw);
  const project = await readScopeOf(db, actor, input);
  const e = testExecutions;
  const cutoffs = windowCutoffs(now, input.since);
  if (input.testCaseId) {
    // One test case has few executions: its index makes the table itself the quickest source.
    const where = and(
      inProject(project, e.projectId),
      eq(e.testCaseId, input.testCaseId),
      input.since ? gte(e.createdAt, input.since) : undefined,
    );
    const [tally, windows] = await Promise.all([
      rawTally(db, where),
      countsSince(db, project, cutoffs, false, where),
    ]);
    return toStatistics(db, tally, windows);
  }
  const owned = inProject(project, e.projectId);
  const firstWholeDay = input.since ? nextUtcDay(input.since) : undefined;
  const [days, firstDay, windows] = await Promise.all([
    rollupTally(
      db,
      project,
      firstWholeDay && isoDay(firstWholeDay),
      input.since ? undefined : MOST_EXECUTED_LIMIT,
    ),
    input.since && firstWholeDay
      ? rawTally(db, and(owned, gte(e.createdAt, input.since), lt(e.createdAt, firstWholeDay)))
      : Promise.resolve(emptyTally()),
    countsSince(db, project, cutoffs, true, owned),
  ]);
  return toStatistics(db, mergeTallies(days, firstDay), windows);
}

/**
 * The same figures computed by scanning test_executions alone: the reference the roll-ups are
 * tested and benchmarked against.
 */
export async function rawExecutionStatistics(
  db: Database,
  actor: Actor,
  raw: z.input<typeof statisticsInput>,
  now = new Date(),
): Promise<ExecutionStatistics> {
  const input = statisticsInput.parse(raw);
  const project = await readScopeOf(db, actor, input);
  const e = testExecutions;
  const where = and(
    inProject(project, e.projectId),
    input.testCaseId ? eq(e.testCaseId, input.testCaseId) : undefined,
    input.since ? gte(e.createdAt, input.since) : undefined,
  );
  const [tally, windows] = await Promise.all([
    rawTally(db, where),
    countsSince(db, project, windowCutoffs(now, input.since), false, where),
  ]);
  return toStatistics(db, tally, windows);
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
