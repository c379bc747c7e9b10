import { createHash } from "node:crypto";
import { and, desc, eq, getTableColumns, inArray, type SQL, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql, readableBy, readScopeOf } from "./actor";
import { type ArtifactView, listExecutionArtifacts } from "./artifacts";
import type { Database } from "./db";
import { ConflictError, NotFoundError } from "./errors";
import { failureFingerprint } from "./fingerprint";
import { assertTransition, isTerminal } from "./lifecycle";
import {
  cleanText,
  decodeKeysetCursor,
  encodeKeysetCursor,
  id,
  isoDateTime,
  keysetCursor,
  LIMITS,
  label,
  type Page,
  pageDirection,
  pagination,
  text,
} from "./limits";
import { notifyStepsRecorded } from "./live";
import {
  EXECUTION_RESULTS,
  EXECUTION_STATUSES,
  executionFilterCounts,
  failureGroups,
  type ProjectRole,
  partitionKeyOf,
  partitionOf,
  runs,
  type TestExecution,
  type TestExecutionStep,
  TRIGGERS,
  testCases,
  testExecutions,
} from "./schema";
import { readSteps } from "./stepReads";
import { accessibleTestCase } from "./testCases";

const path = text().trim().min(1).max(LIMITS.path);

/** Every wave-1 input may name a project; without one, the token's or the personal project. */
const projectId = id.optional();

/** Which try of a test an execution is: 1,000 CI re-runs × 100 tries (see RunJoin). */
const attemptNumber = z.number().int().min(0).max(1_000_000);

export const startExecutionInput = z.strictObject({
  projectId,
  testCaseId: id,
  browser: label.optional(),
  environment: label.optional(),
  baseUrl: z
    .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
    .max(LIMITS.url)
    .overwrite(cleanText)
    .optional(),
  triggeredBy: z.enum(TRIGGERS).default("manual"),
  triggerDetails: text().max(LIMITS.text).optional(),
  idempotencyKey: text().trim().min(1).max(LIMITS.idempotencyKey).optional(),
  /** The run (CI build) this execution belongs to; it must be running, in the same project. */
  runId: id.optional(),
  /**
   * Which try of the test this is within the run: 0 first, 1.. retries. The reporters number a
   * CI re-run's tries from 100 × its attempt, so they come after the tries of the run it repeats.
   */
  attempt: attemptNumber.default(0),
});

const executionFilters = {
  projectId,
  status: z.enum(EXECUTION_STATUSES).optional(),
  result: z.enum(EXECUTION_RESULTS).optional(),
  browser: label.optional(),
  environment: label.optional(),
  testCaseId: id.optional(),
};

const cursor = keysetCursor("execution.list");

export function encodeCursor(row: { id: number; createdAt: Date }): string {
  return encodeKeysetCursor({ id: row.id, at: row.createdAt });
}

export const listExecutionsInput = z
  .strictObject({
    ...executionFilters,
    ...pagination,
    cursor: cursor.optional(),
    direction: pageDirection,
  })
  .refine((input) => !(input.cursor && input.skip > 0), "use either cursor or skip, not both")
  .default({ skip: 0, limit: 50 });
export const countExecutionsInput = z.strictObject(executionFilters).default({});

export const executionHistoryInput = z.strictObject({
  projectId,
  testCaseId: id,
  ...pagination,
  cursor: cursor.optional(),
  direction: pageDirection,
});

export const executionIdInput = z.strictObject({ id });

export const updateExecutionInput = z.strictObject({
  id,
  status: z.enum(EXECUTION_STATUSES).optional(),
  result: z.enum(EXECUTION_RESULTS).optional(),
  startedAt: isoDateTime.optional(),
  completedAt: isoDateTime.optional(),
  durationSeconds: z.number().min(0).max(LIMITS.durationSeconds).optional(),
  consoleLog: text().max(LIMITS.consoleLog).optional(),
  errorMessage: text().max(LIMITS.message).optional(),
  screenshotPath: path.optional(),
  videoPath: path.optional(),
  /** Which try of the test this is, when the runner tells only at the end (Vitest's retries). */
  attempt: attemptNumber.optional(),
});

export type ExecutionSummary = Pick<
  TestExecution,
  "id" | "status" | "result" | "totalSteps" | "passedSteps" | "failedSteps" | "skippedSteps"
>;

const {
  consoleLog: _consoleLog,
  idempotencyKey: _key,
  idempotencyFingerprint: _fp,
  ...listColumns
} = getTableColumns(testExecutions);
const {
  idempotencyKey: _k,
  idempotencyFingerprint: _f,
  ...detailColumns
} = getTableColumns(testExecutions);

/** A list row: every column but the (possibly large) console log, plus the test case title. */
export type ExecutionListItem = Omit<
  TestExecution,
  "consoleLog" | "idempotencyKey" | "idempotencyFingerprint"
> & { testCaseTitle: string };
export type ExecutionDetail = Omit<TestExecution, "idempotencyKey" | "idempotencyFingerprint"> & {
  testCaseTitle: string;
  steps: TestExecutionStep[];
  artifacts: ArtifactView[];
};

/**
 * Locks the execution row for the rest of the transaction, so summary recomputation and
 * lifecycle checks of concurrent writers happen one after the other. NOT_FOUND when the actor
 * cannot see its project, FORBIDDEN below `need` (member by default).
 */
export async function lockExecution(
  tx: Database,
  actor: Actor,
  executionId: number,
  need: ProjectRole = NEEDS.write,
): Promise<TestExecution> {
  const [locked] = await tx
    .select({ id: testExecutions.id })
    .from(testExecutions)
    .where(eq(testExecutions.id, executionId))
    .for("update");
  // The role in a statement after the lock: it sees a membership change the lock waited for.
  const [row] = locked
    ? await tx
        .select({
          execution: testExecutions,
          access: projectRoleSql(actor, testExecutions.projectId),
        })
        .from(testExecutions)
        .where(eq(testExecutions.id, executionId))
    : [];
  assertRole(row?.access, need, "Execution", executionId);
  if (!row) throw new NotFoundError("Execution", executionId);
  return row.execution;
}

function fingerprint(input: z.output<typeof startExecutionInput>): string {
  const { idempotencyKey: _ignored, ...rest } = input;
  const canonical = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)));
  return createHash("sha256").update(canonical).digest("hex");
}

export interface StartExecutionResult {
  executionId: number;
  testCaseId: number;
  status: TestExecution["status"];
  message: string;
  createdAt: Date;
}

/**
 * Creates a pending execution of a test case the actor can see. With an idempotency key, a
 * repeat of the same request returns the first execution; the same key with different input is
 * a CONFLICT.
 */
export async function startExecution(
  db: Database,
  actor: Actor,
  raw: z.input<typeof startExecutionInput>,
): Promise<StartExecutionResult> {
  const input = startExecutionInput.parse(raw);
  const testCase = await accessibleTestCase(db, actor, input.testCaseId, NEEDS.write);
  if (input.projectId !== undefined && input.projectId !== testCase.projectId) {
    throw new NotFoundError("Test case", input.testCaseId);
  }
  if (input.runId !== undefined) await assertOpenRun(db, input.runId, testCase.projectId);
  const idempotencyFingerprint = input.idempotencyKey ? fingerprint(input) : null;
  const [created] = await db
    .insert(testExecutions)
    .values({
      projectId: testCase.projectId,
      testCaseId: testCase.id,
      userId: actor.id,
      status: "pending",
      browser: input.browser ?? null,
      environment: input.environment ?? null,
      baseUrl: input.baseUrl ?? null,
      triggeredBy: input.triggeredBy,
      triggerDetails: input.triggerDetails ?? null,
      idempotencyKey: input.idempotencyKey ?? null,
      idempotencyFingerprint,
      runId: input.runId ?? null,
      attempt: input.attempt,
    })
    .onConflictDoNothing({
      target: [testExecutions.projectId, testExecutions.userId, testExecutions.idempotencyKey],
    })
    .returning();
  if (created) {
    return {
      executionId: created.id,
      testCaseId: created.testCaseId,
      status: created.status,
      message: `Execution ${created.id} of test case ${testCase.id} created`,
      createdAt: created.createdAt,
    };
  }
  return replayStart(
    db,
    actor,
    testCase.projectId,
    input.idempotencyKey ?? "",
    idempotencyFingerprint,
  );
}

/** A run executions may join: in the test case's project (else NOT_FOUND) and running. */
async function assertOpenRun(db: Database, runId: number, projectId: number) {
  const [run] = await db
    .select({ projectId: runs.projectId, status: runs.status })
    .from(runs)
    .where(eq(runs.id, runId));
  if (!run || run.projectId !== projectId) throw new NotFoundError("Run", runId);
  if (run.status !== "running") {
    throw new ConflictError(
      `run ${runId} already ended (${run.status}); a CI re-run joins it again with run.start and attempt > 0`,
    );
  }
}

async function replayStart(
  db: Database,
  actor: Actor,
  projectId: number,
  key: string,
  expectedFingerprint: string | null,
): Promise<StartExecutionResult> {
  const [existing] = await db
    .select()
    .from(testExecutions)
    .where(
      and(
        eq(testExecutions.projectId, projectId),
        eq(testExecutions.userId, actor.id),
        eq(testExecutions.idempotencyKey, key),
      ),
    );
  if (!existing) throw new ConflictError("the execution could not be created; try again");
  if (existing.idempotencyFingerprint !== expectedFingerprint) {
    throw new ConflictError(
      `idempotency key "${key}" was already used for a different request (execution ${existing.id})`,
    );
  }
  return {
    executionId: existing.id,
    testCaseId: existing.testCaseId,
    status: existing.status,
    message: `Execution ${existing.id} already exists for this idempotency key`,
    createdAt: existing.createdAt,
  };
}

/** One execution with every column and its steps in step order. */
export async function getExecution(
  db: Database,
  actor: Actor,
  raw: z.input<typeof executionIdInput>,
): Promise<ExecutionDetail> {
  const input = executionIdInput.parse(raw);
  const [found] = await db
    .select({ ...detailColumns, testCaseTitle: testCases.title, partitionKey: partitionKeyOf })
    .from(testExecutions)
    .innerJoin(testCases, eq(testCases.id, testExecutions.testCaseId))
    .where(and(eq(testExecutions.id, input.id), readableBy(actor, testExecutions.projectId)));
  if (!found) throw new NotFoundError("Execution", input.id);
  const { partitionKey, ...row } = found;
  const steps = await readSteps(db, input.id, partitionOf(partitionKey));
  return { ...row, steps, artifacts: await listExecutionArtifacts(db, input.id) };
}

type ExecutionFilters = Omit<z.output<typeof countExecutionsInput>, "projectId">;

/** `project`: one project's executions, or null for every project (an admin's view). */
function executionWhere(project: number | null, filters: ExecutionFilters): SQL | undefined {
  return and(
    project === null ? undefined : eq(testExecutions.projectId, project),
    filters.status ? eq(testExecutions.status, filters.status) : undefined,
    filters.result ? eq(testExecutions.result, filters.result) : undefined,
    filters.browser ? eq(testExecutions.browser, filters.browser) : undefined,
    filters.environment ? eq(testExecutions.environment, filters.environment) : undefined,
    filters.testCaseId ? eq(testExecutions.testCaseId, filters.testCaseId) : undefined,
  );
}

export async function countExecutions(
  db: Database,
  actor: Actor,
  raw: z.input<typeof countExecutionsInput>,
): Promise<number> {
  const { projectId: asked, ...filters } = countExecutionsInput.parse(raw);
  return countInScope(db, await readScopeOf(db, actor, { ...filters, projectId: asked }), filters);
}

async function countInScope(
  db: Database,
  project: number | null,
  filters: ExecutionFilters,
): Promise<number> {
  if (filters.testCaseId) {
    // One test case's executions are few, and its index finds them.
    const [row] = await db
      .select({ n: sql<number>`count(*)::int` })
      .from(testExecutions)
      .where(executionWhere(project, filters));
    return row?.n ?? 0;
  }
  // Any mix of the other filters: add up the counts the trigger keeps per combination.
  const c = executionFilterCounts;
  const [row] = await db
    .select({ n: sql<number>`coalesce(sum(${c.executions}), 0)::int` })
    .from(c)
    .where(
      and(
        project === null ? undefined : eq(c.projectId, project),
        filters.status ? eq(c.status, filters.status) : undefined,
        filters.result ? eq(c.result, filters.result) : undefined,
        filters.browser ? eq(c.browser, filters.browser) : undefined,
        filters.environment ? eq(c.environment, filters.environment) : undefined,
      ),
    );
  return row?.n ?? 0;
}

/** Executions newest first, filtered by the seed's filters, with the total for pagination. */
export async function listExecutions(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listExecutionsInput>,
): Promise<Page<ExecutionListItem> & { nextCursor: string | null }> {
  const input = listExecutionsInput.parse(raw);
  return listInScope(db, await readScopeOf(db, actor, input), input);
}

async function listInScope(
  db: Database,
  project: number | null,
  input: z.output<typeof listExecutionsInput>,
): Promise<Page<ExecutionListItem> & { nextCursor: string | null }> {
  const { skip, limit, cursor: afterCursorText, projectId: _asked, ...filters } = input;
  const after = afterCursorText ? decodeKeysetCursor(afterCursorText) : undefined;
  const e = testExecutions;
  const where = executionWhere(project, filters);
  // The row's exact (microsecond) creation time from the table; the cursor's copy if it is gone.
  const afterCursor = after
    ? sql`(${e.createdAt}, ${e.id}) < (coalesce((select c.created_at from test_executions c where c.id = ${after.id}), ${after.at.toISOString()}::timestamptz), ${after.id})`
    : undefined;
  // A deep page by skip finds its ids in the list index alone (an index-only scan over the
  // skipped entries), then reads just those rows, instead of reading every skipped row.
  const pageIds =
    skip > 0
      ? inArray(
          e.id,
          db
            .select({ id: e.id })
            .from(e)
            .where(and(where, afterCursor))
            .orderBy(desc(e.createdAt), desc(e.id))
            .offset(skip)
            .limit(limit),
        )
      : undefined;
  const [items, total] = await Promise.all([
    db
      .select({ ...listColumns, testCaseTitle: testCases.title })
      .from(e)
      .innerJoin(testCases, eq(testCases.id, e.testCaseId))
      .where(pageIds ?? and(where, afterCursor))
      .orderBy(desc(e.createdAt), desc(e.id))
      .limit(limit),
    countInScope(db, project, filters),
  ]);
  const last = items[items.length - 1];
  const nextCursor = items.length === limit && last ? encodeCursor(last) : null;
  return { items, total, skip, limit, nextCursor };
}

/** The executions of one test case; NOT_FOUND when the actor cannot see the test case. */
export async function executionHistory(
  db: Database,
  actor: Actor,
  raw: z.input<typeof executionHistoryInput>,
): Promise<Page<ExecutionListItem> & { nextCursor: string | null }> {
  const input = executionHistoryInput.parse(raw);
  const testCase = await accessibleTestCase(db, actor, input.testCaseId, NEEDS.read);
  if (input.projectId !== undefined && input.projectId !== testCase.projectId) {
    throw new NotFoundError("Test case", input.testCaseId);
  }
  return listInScope(db, testCase.projectId, { ...input, skip: input.skip, limit: input.limit });
}

/**
 * Changes status, result, timings or artifacts. Status moves follow the lifecycle; once an
 * execution is terminal its status, result and timings are final (repeating them is a no-op),
 * while artifacts (logs, screenshots, video) may still be attached.
 */
export async function updateExecution(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateExecutionInput>,
): Promise<Omit<TestExecution, "idempotencyKey" | "idempotencyFingerprint">> {
  const { id: executionId, ...changes } = updateExecutionInput.parse(raw);
  return db.transaction(async (tx) => {
    const current = await lockExecution(tx, actor, executionId);
    const next = nextExecutionState(current, changes, new Date());
    await groupFailure(tx, current, next);
    const [row] = await tx
      .update(testExecutions)
      .set({ ...next, updatedAt: new Date() })
      .where(eq(testExecutions.id, executionId))
      .returning(detailColumns);
    if (!row) throw new NotFoundError("Execution", executionId);
    await notifyStepsRecorded(tx, executionId);
    return row;
  });
}

/**
 * A failed or errored execution that has its message joins its failure group (by fingerprint),
 * once: the group is created, or its count and last sighting move on. Before the execution's own
 * update, so every writer takes the group's row before the roll-ups' (no deadlock).
 */
async function groupFailure(tx: Database, current: TestExecution, next: Partial<TestExecution>) {
  if (current.failureFingerprint) return;
  const after = { ...current, ...next };
  if (!isTerminal(after.status) || (after.result !== "fail" && after.result !== "error")) return;
  if (!after.errorMessage?.trim()) return;
  const fingerprint = failureFingerprint(after.errorMessage);
  next.failureFingerprint = fingerprint;
  await tx
    .insert(failureGroups)
    .values({
      projectId: current.projectId,
      fingerprint,
      sampleMessage: after.errorMessage.slice(0, LIMITS.text),
      firstRunId: current.runId,
      occurrences: 1,
    })
    .onConflictDoUpdate({
      target: [failureGroups.projectId, failureGroups.fingerprint],
      set: {
        lastSeenAt: sql`now()`,
        occurrences: sql`${failureGroups.occurrences} + 1`,
      },
    });
}

type ExecutionChanges = Omit<z.output<typeof updateExecutionInput>, "id">;

function nextExecutionState(current: TestExecution, changes: ExecutionChanges, now: Date) {
  const { status, result, startedAt, completedAt, durationSeconds, attempt, ...artifacts } =
    changes;
  if (isTerminal(current.status)) {
    assertUnchangedWhenFinal(current, {
      status,
      result,
      startedAt,
      completedAt,
      durationSeconds,
      attempt,
    });
    return artifacts;
  }
  const to = status ?? current.status;
  assertTransition(current.status, to);
  const next: Partial<TestExecution> = { ...artifacts, status: to };
  if (attempt !== undefined) next.attempt = attempt;
  if (result) next.result = result;
  next.startedAt = startedAt ?? current.startedAt ?? (to !== "pending" ? now : null);
  if (isTerminal(to)) {
    next.completedAt = completedAt ?? now;
    if (next.startedAt && next.completedAt < next.startedAt) {
      throw new ConflictError("completedAt must not be before startedAt");
    }
    next.durationSeconds =
      durationSeconds ??
      (next.startedAt ? (next.completedAt.getTime() - next.startedAt.getTime()) / 1000 : null);
  } else if (completedAt || durationSeconds !== undefined) {
    throw new ConflictError(
      "completedAt and durationSeconds can only be set when the execution finishes",
    );
  }
  return next;
}

function assertUnchangedWhenFinal(
  current: TestExecution,
  asked: Pick<
    ExecutionChanges,
    "status" | "result" | "startedAt" | "completedAt" | "durationSeconds" | "attempt"
  >,
) {
  const differs =
    (asked.status !== undefined && asked.status !== current.status) ||
    (asked.result !== undefined && asked.result !== current.result) ||
    (asked.startedAt !== undefined && asked.startedAt.getTime() !== current.startedAt?.getTime()) ||
    (asked.completedAt !== undefined &&
      asked.completedAt.getTime() !== current.completedAt?.getTime()) ||
    (asked.durationSeconds !== undefined && asked.durationSeconds !== current.durationSeconds) ||
    (asked.attempt !== undefined && asked.attempt !== current.attempt);
  if (differs) {
    throw new ConflictError(
      `execution ${current.id} is already ${current.status}, which is final; its status, result, timings and attempt cannot change`,
    );
  }
}

/** Deletes an execution and, by cascade, its steps (maintainers). */
export async function deleteExecution(
  db: Database,
  actor: Actor,
  raw: z.input<typeof executionIdInput>,
): Promise<{ id: number }> {
  const input = executionIdInput.parse(raw);
  return db.transaction(async (tx) => {
    await lockExecution(tx, actor, input.id, NEEDS.manage);
    await tx.delete(testExecutions).where(eq(testExecutions.id, input.id));
    return { id: input.id };
  });
}
