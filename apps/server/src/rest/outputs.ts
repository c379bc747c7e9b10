import {
  ARTIFACT_KINDS,
  EXECUTION_RESULTS,
  EXECUTION_STATUSES,
  runs,
  testCases,
  testExecutionSteps,
  testExecutions,
} from "@testtrack/core";
import { getTableColumns, type Table } from "drizzle-orm";
import { z } from "zod";

/**
 * What the REST routes answer, for the OpenAPI document only: the procedures' own types stay
 * the truth (nothing validates answers against these), and rest.test.ts checks the seed's paths
 * against them. Row shapes are derived from the drizzle tables, as they travel in JSON.
 */
type Column = ReturnType<typeof getTableColumns>[string];

function columnSchema(column: Column): z.ZodType {
  const base = (): z.ZodType => {
    if (column.enumValues && column.dataType === "string") {
      return z.enum(column.enumValues as [string, ...string[]]);
    }
    switch (column.dataType) {
      case "number":
        return column.columnType === "PgInteger" ? z.int() : z.number();
      case "boolean":
        return z.boolean();
      case "date":
        return z.iso.datetime();
      case "array":
        return z.array(z.string());
      case "json":
        return z.unknown();
      default:
        return z.string();
    }
  };
  return column.notNull ? base() : base().nullable();
}

/** A table's row as JSON: every column but `omit`, times as ISO 8601 strings. */
function rowSchema<T extends Table, K extends string = never>(table: T, omit: readonly K[] = []) {
  const shape: Record<string, z.ZodType> = {};
  for (const [name, column] of Object.entries(getTableColumns(table))) {
    if (!(omit as readonly string[]).includes(name)) shape[name] = columnSchema(column);
  }
  return z.looseObject(shape);
}

const idempotency = ["idempotencyKey", "idempotencyFingerprint"] as const;

export const stepSchema = rowSchema(testExecutionSteps).meta({ id: "Step" });

export const executionListItemSchema = rowSchema(testExecutions, [...idempotency, "consoleLog"])
  .extend({ testCaseTitle: z.string() })
  .meta({ id: "ExecutionListItem" });

export const artifactSchema = z
  .object({
    id: z.int(),
    executionId: z.int(),
    stepNumber: z.int().nullable(),
    kind: z.enum(ARTIFACT_KINDS),
    name: z.string(),
    contentType: z.string(),
    size: z.int(),
    sha256: z.string(),
    createdAt: z.iso.datetime(),
    url: z.string().meta({ description: "A signed download URL, valid for 30 minutes" }),
  })
  .meta({ id: "Artifact" });

export const executionSchema = rowSchema(testExecutions, idempotency)
  .extend({
    testCaseTitle: z.string(),
    steps: z.array(stepSchema),
    artifacts: z.array(artifactSchema),
  })
  .meta({ id: "Execution", description: "Every column of the execution, its steps in order" });

export const executionPageSchema = z
  .object({
    items: z.array(executionListItemSchema),
    total: z.int().meta({ description: "How many executions match the filters" }),
    skip: z.int(),
    limit: z.int(),
    nextCursor: z.string().nullable(),
  })
  .meta({
    id: "ExecutionPage",
    example: { items: [], total: 0, skip: 0, limit: 50, nextCursor: null },
  });

export const startedExecutionSchema = z
  .object({
    executionId: z.int(),
    testCaseId: z.int(),
    status: z.enum(EXECUTION_STATUSES),
    message: z.string(),
    createdAt: z.iso.datetime(),
  })
  .meta({
    id: "StartedExecution",
    example: {
      executionId: 42,
      testCaseId: 7,
      status: "pending",
      message: "execution 42 started",
      createdAt: "2026-01-15T10:00:00.000Z",
    },
  });

const counts = (keys: readonly string[]) =>
  z.object(Object.fromEntries(keys.map((key) => [key, z.int()])));

export const statisticsSchema = z
  .object({
    totalExecutions: z.int(),
    byStatus: counts(EXECUTION_STATUSES),
    byResult: counts(EXECUTION_RESULTS),
    byBrowser: z.record(z.string(), z.int()),
    byEnvironment: z.record(z.string(), z.int()),
    passRate: z.number().meta({ description: "Percent of pass/fail/error executions that passed" }),
    averageDurationSeconds: z.number().nullable(),
    totalDurationHours: z.number(),
    executionsLast24h: z.int(),
    executionsLast7d: z.int(),
    executionsLast30d: z.int(),
    mostExecutedTests: z.array(
      z.object({ testCaseId: z.int(), title: z.string(), count: z.int() }),
    ),
  })
  .meta({ id: "ExecutionStatistics" });

export const testCaseSchema = rowSchema(testCases).meta({ id: "TestCase" });

export const ensuredTestCaseSchema = z
  .object({
    id: z.int(),
    key: z.string(),
    title: z.string(),
    created: z.boolean().meta({ description: "True when this call created it" }),
  })
  .meta({ id: "EnsuredTestCase" });

export const testCasePageSchema = z
  .object({ items: z.array(testCaseSchema), total: z.int(), skip: z.int(), limit: z.int() })
  .meta({ id: "TestCasePage" });

const summarySchema = z.object({
  id: z.int(),
  status: z.enum(EXECUTION_STATUSES),
  result: z.enum(EXECUTION_RESULTS).nullable(),
  totalSteps: z.int(),
  passedSteps: z.int(),
  failedSteps: z.int(),
  skippedSteps: z.int(),
});

export const recordedStepsSchema = z
  .object({ steps: z.array(stepSchema), summary: summarySchema })
  .meta({ id: "RecordedSteps", description: "The stored steps and the execution's new summary" });

export const runSchema = rowSchema(runs).meta({ id: "Run" });

const shardSchema = z.object({
  shard: z.int(),
  attempt: z.int(),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime().nullable(),
});

/** A run with its duration and shards, as run.start, finish and cancel answer it. */
export const runViewSchema = runSchema
  .extend({ durationSeconds: z.number().nullable(), shards: z.array(shardSchema) })
  .meta({ id: "RunView" });

const user = z.looseObject({
  id: z.int(),
  email: z.string(),
  name: z.string(),
  role: z.enum(["admin", "member"]),
});

/** Documented answers by procedure path; the others answer JSON described by their tRPC type. */
export const REST_OUTPUTS: Record<string, z.ZodType> = {
  "auth.login": z.looseObject({ token: z.string(), expiresAt: z.iso.datetime(), user }),
  "auth.me": user.meta({ id: "User" }),
  "execution.start": startedExecutionSchema,
  "execution.history": executionPageSchema,
  "execution.list": executionPageSchema,
  "execution.get": executionSchema,
  "execution.update": rowSchema(testExecutions, idempotency),
  "execution.delete": z.object({ id: z.int() }),
  "artifact.delete": z.object({ id: z.int() }),
  "stats.get": statisticsSchema,
  "step.record": recordedStepsSchema,
  "step.list": z.array(stepSchema),
  "step.update": recordedStepsSchema,
  "testCase.create": testCaseSchema,
  "testCase.get": testCaseSchema,
  "testCase.list": testCasePageSchema,
  "testCase.update": testCaseSchema,
  "testCase.ensure": ensuredTestCaseSchema,
  "testCase.ensureMany": z.array(ensuredTestCaseSchema),
  "testCase.delete": z.object({ id: z.int() }),
  "run.start": runViewSchema.extend({ created: z.boolean() }),
  "run.finish": runViewSchema,
  "run.finishShard": runViewSchema,
  "run.cancel": runViewSchema,
  "run.delete": z.object({ id: z.int(), executions: z.int(), artifacts: z.int() }),
  "run.list": z.object({
    items: z.array(runSchema),
    limit: z.int(),
    nextCursor: z.string().nullable(),
  }),
};

export const UNDOCUMENTED_OUTPUT = z
  .unknown()
  .meta({ description: "JSON, as the tRPC procedure of the same name answers it" });
