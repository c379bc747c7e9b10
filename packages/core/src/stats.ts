import { and, desc, eq, gte, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, ownedBy } from "./actor";
import type { Database } from "./db";
import { id, isoDateTime } from "./limits";
import {
  EXECUTION_RESULTS,
  EXECUTION_STATUSES,
  type ExecutionResult,
  type ExecutionStatus,
  testCases,
  testExecutions,
} from "./schema";

export const statisticsInput = z
  .strictObject({ testCaseId: id.optional(), since: isoDateTime.optional() })
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

const DAY_MS = 24 * 60 * 60 * 1000;

function countWhere(condition: SQL) {
  return sql<number>`count(*) filter (where ${condition})::int`;
}

/** Every figure of the seed's ExecutionStatistics, computed by SQL aggregates over the actor's rows. */
export async function executionStatistics(
  db: Database,
  actor: Actor,
  raw: z.input<typeof statisticsInput>,
  now = new Date(),
): Promise<ExecutionStatistics> {
  const input = statisticsInput.parse(raw);
  const e = testExecutions;
  const where = and(
    ownedBy(actor, e.userId),
    input.testCaseId ? eq(e.testCaseId, input.testCaseId) : undefined,
    input.since ? gte(e.createdAt, input.since) : undefined,
  );
  const since = (days: number) =>
    sql`${new Date(now.getTime() - days * DAY_MS).toISOString()}::timestamptz`;
  const byColumn = (column: typeof e.browser | typeof e.environment) =>
    db
      .select({
        key: sql<string>`coalesce(${column}, ${UNSPECIFIED})`,
        count: sql<number>`count(*)::int`,
      })
      .from(e)
      .where(where)
      .groupBy(sql`1`)
      .orderBy(sql`2 desc`, sql`1`);

  const [[totals], browsers, environments, mostExecuted] = await Promise.all([
    db
      .select({
        total: sql<number>`count(*)::int`,
        ...Object.fromEntries(
          EXECUTION_STATUSES.map((s) => [`status_${s}`, countWhere(sql`${e.status} = ${s}`)]),
        ),
        ...Object.fromEntries(
          EXECUTION_RESULTS.map((r) => [`result_${r}`, countWhere(sql`${e.result} = ${r}`)]),
        ),
        averageDuration: sql<number | null>`avg(${e.durationSeconds})::float8`,
        totalDuration: sql<number>`coalesce(sum(${e.durationSeconds}), 0)::float8`,
        last24h: countWhere(sql`${e.createdAt} >= ${since(1)}`),
        last7d: countWhere(sql`${e.createdAt} >= ${since(7)}`),
        last30d: countWhere(sql`${e.createdAt} >= ${since(30)}`),
      })
      .from(e)
      .where(where),
    byColumn(e.browser),
    byColumn(e.environment),
    db
      .select({
        testCaseId: e.testCaseId,
        title: testCases.title,
        count: sql<number>`count(*)::int`,
      })
      .from(e)
      .innerJoin(testCases, eq(testCases.id, e.testCaseId))
      .where(where)
      .groupBy(e.testCaseId, testCases.title)
      .orderBy(desc(sql`count(*)`), e.testCaseId)
      .limit(MOST_EXECUTED_LIMIT),
  ]);

  const row = (totals ?? {}) as Record<string, number | null>;
  const byStatus = Object.fromEntries(
    EXECUTION_STATUSES.map((s) => [s, row[`status_${s}`] ?? 0]),
  ) as Record<ExecutionStatus, number>;
  const byResult = Object.fromEntries(
    EXECUTION_RESULTS.map((r) => [r, row[`result_${r}`] ?? 0]),
  ) as Record<ExecutionResult, number>;
  const decided = byResult.pass + byResult.fail + byResult.error;
  const averageDuration = row.averageDuration ?? null;
  return {
    totalExecutions: row.total ?? 0,
    byStatus,
    byResult,
    byBrowser: Object.fromEntries(browsers.map((b) => [b.key, b.count])),
    byEnvironment: Object.fromEntries(environments.map((b) => [b.key, b.count])),
    passRate: decided === 0 ? 0 : round((byResult.pass / decided) * 100, 2),
    averageDurationSeconds: averageDuration === null ? null : round(averageDuration, 3),
    totalDurationHours: round((row.totalDuration ?? 0) / 3600, 4),
    executionsLast24h: row.last24h ?? 0,
    executionsLast7d: row.last7d ?? 0,
    executionsLast30d: row.last30d ?? 0,
    mostExecutedTests: mostExecuted,
  };
}

function round(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}
