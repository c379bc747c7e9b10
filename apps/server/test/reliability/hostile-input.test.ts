import { randomUUID } from "node:crypto";
import { artifacts, encodeCursor } from "@testtrack/core";
import { openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { TRPCError } from "@trpc/server";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callerWith, createTestPrincipal, startTestServer } from "../fixtures";
import { tableSnapshot } from "./snapshot";

type Caller = ReturnType<typeof callerWith>;
type Actor = "anonymous" | "owner" | "viewer" | "other" | "admin";

const TYPED_CODES = new Set([
  "BAD_REQUEST",
  "NOT_FOUND",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "TOO_MANY_REQUESTS",
]);
const RUNS_PER_PROCEDURE = 440;

let h: TestDatabase;
let callers: Record<Actor, Caller>;
/** The same principals' tokens, for the REST routes. */
let tokens: Record<Actor, string | null>;
let ids: {
  projectId: number;
  runId: number;
  runCursor: string;
  webhookId: number;
  cursor: string;
  testCaseId: number;
  executionId: number;
  stepId: number;
  tokenId: number;
  userId: number;
};
let foreignIds: number[];
/** An artifact row of the owner's execution, for artifact.delete. */
let artifactRowId: number;

beforeAll(async () => {
  h = await openTestDatabase();
  const [owner, viewer, other, admin] = await Promise.all([
    createTestPrincipal(h),
    createTestPrincipal(h),
    createTestPrincipal(h),
    createTestPrincipal(h, "admin"),
  ]);
  // The owner's shared project, which "viewer" may only read and "other" may not see.
  const project = await owner.caller.project.create({ slug: "fuzzed", name: "Fuzzed" });
  await owner.caller.project.addMember({
    projectId: project.id,
    email: viewer.email,
    role: "viewer",
  });
  const testCase = await owner.caller.testCase.create({
    projectId: project.id,
    title: "Owner's case",
    tags: ["a"],
  });
  const started = await owner.caller.execution.start({ testCaseId: testCase.id });
  const recorded = await owner.caller.step.record({
    executionId: started.executionId,
    steps: [{ stepNumber: 1, stepDescription: "first", result: "pass" }],
  });
  const token = await owner.caller.auth.createApiToken({ name: "owner's CI" });
  const run = await owner.caller.run.start({ projectId: project.id, key: "fuzzed-build" });
  await owner.caller.run.start({ projectId: project.id, key: "fuzzed-build-2" });
  const runPage = await owner.caller.run.list({ projectId: project.id, limit: 1 });
  const webhook = await owner.caller.webhook.create({
    projectId: project.id,
    url: "https://hooks.example.com/fuzzed",
    events: ["run.finished"],
  });
  ids = {
    projectId: project.id,
    runId: run.id,
    runCursor: runPage.nextCursor ?? "",
    webhookId: webhook.id,
    cursor: encodeCursor({ id: started.executionId, createdAt: new Date() }),
    testCaseId: testCase.id,
    executionId: started.executionId,
    stepId: recorded.steps[0]?.id ?? 0,
    tokenId: token.id,
    userId: owner.id,
  };
  const [artifactRow] = await h.db
    .insert(artifacts)
    .values({
      projectId: project.id,
      executionId: started.executionId,
      kind: "log",
      name: "fuzzed.log",
      contentType: "text/plain",
      size: 0,
      sha256: "0".repeat(64),
      storageKey: `${project.id}/${randomUUID()}`,
    })
    .returning({ id: artifacts.id });
  artifactRowId = artifactRow?.id ?? 0;
  foreignIds = [
    ids.projectId,
    ids.runId,
    ids.testCaseId,
    ids.executionId,
    ids.stepId,
    ids.tokenId,
    ids.userId,
    admin.id,
    0,
    -1,
    2 ** 31,
  ];
  callers = {
    anonymous: callerWith(h, null),
    owner: owner.caller,
    viewer: viewer.caller,
    other: other.caller,
    admin: admin.caller,
  };
  tokens = {
    anonymous: null,
    owner: owner.token,
    viewer: viewer.token,
    other: other.token,
    admin: admin.token,
  };
});
afterAll(() => h.close());

const deeplyNested = fc.integer({ min: 20, max: 3000 }).map((depth) => {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { nested: value };
  return value;
});

/** Halves of emoji and NUL, which runners that cut strings produce: every text field must hold them. */
const BROKEN_TEXT = ["\uD83D", "cut \uD83D", "\uDE00 tail", "a\uDE00\uD83Db", "nul \u0000 inside"];
/** Valid ISO 8601 at and past both ends of what PostgreSQL and four-digit years allow. */
const EDGE_DATES = [
  "0000-01-01T00:00:00Z",
  "0001-01-01T00:00:00Z",
  "1969-12-31T23:59:59.999Z",
  "1970-01-01T00:00:00Z",
  "9999-12-31T23:59:59Z",
  "9999-12-31T23:59:59.999Z",
  "9999-12-31T23:59:59-12:00",
  "+010000-01-01T00:00:00Z",
  "-000001-01-01T00:00:00Z",
  "+275760-09-13T00:00:00Z",
];
const forgedCursor = (text: string) => Buffer.from(text).toString("base64url");
/** Cursors no list returned: ids past int4, times outside the range, odd shapes. */
const FORGED_CURSORS = [
  forgedCursor("2147483648:1767225600000"),
  forgedCursor("9007199254740993:0"),
  forgedCursor("1:-62198755200001"),
  forgedCursor("1:253402300800000"),
  forgedCursor("1:8640000000000000"),
  forgedCursor("0:0"),
  forgedCursor("1:1e3"),
  forgedCursor("1:2:3"),
  forgedCursor(":"),
  "%%%",
];

const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...BROKEN_TEXT),
  fc.constantFrom(...EDGE_DATES),
  fc.constantFrom(...FORGED_CURSORS),
  fc.string(),
  fc.string({ unit: "binary", maxLength: 30 }),
  fc.string({ maxLength: 10 }).map((text) => `${text}\u0000${text}`),
  fc.constant("x".repeat(70_000)),
  fc.constant("y".repeat(1_100_000)),
  fc.integer(),
  fc.integer({ min: Number.MIN_SAFE_INTEGER, max: -1 }),
  fc.constantFrom(2 ** 31, Number.MAX_SAFE_INTEGER, 1e308, 0.5, -0),
  fc.double(),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.boolean(),
  fc.constantFrom(null, undefined),
  fc.constantFrom(
    "'; drop table users; --",
    "1 OR 1=1",
    "Robert'); DROP TABLE test_executions;--",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "%",
    "_",
    "\\",
    "\u0000",
  ),
  fc.constantFrom("NaN", "Infinity", "2026-13-45T99:99:99Z", "not a date", "2026-01-01", ""),
  fc.constantFrom("PENDING", "done", "cron", "root", "superuser", "admin "),
  fc.constant(new Date(Number.NaN)),
  deeplyNested,
  fc.anything({ maxDepth: 3 }),
);

const massAssignmentKeys = fc.constantFrom(
  "userId",
  "user_id",
  "role",
  "totalSteps",
  "passedSteps",
  "id",
  "createdAt",
  "tokenHash",
  "passwordHash",
  "__proto__",
  "constructor",
);

type Path = (string | number)[];

function leafPaths(value: unknown, prefix: Path = []): Path[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => leafPaths(item, [...prefix, i]));
  if (value && typeof value === "object") {
    return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...prefix, key]));
  }
  return [prefix];
}

function withValueAt(base: unknown, path: Path, value: unknown): unknown {
  if (path.length === 0) return value;
  const [head, ...rest] = path as [string | number, ...Path];
  const copy = (Array.isArray(base) ? [...base] : { ...(base as object) }) as Record<
    string | number,
    unknown
  >;
  copy[head] = withValueAt((base as Record<string | number, unknown>)[head], rest, value);
  return copy;
}

function withExtraKey(base: unknown, key: string, value: unknown): unknown {
  const copy = { ...(base as object) };
  Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
  return copy;
}

function without(base: unknown, key: string): unknown {
  const { [key]: _removed, ...rest } = base as Record<string, unknown>;
  return rest;
}

/** Inputs derived from a valid one: hostile values anywhere, extra keys, missing keys, others' ids. */
function hostileInputs(base: unknown): fc.Arbitrary<unknown> {
  const paths = base && typeof base === "object" ? leafPaths(base) : [];
  const keys = base && typeof base === "object" ? Object.keys(base) : [];
  const idPaths = paths.filter((p) => /id$/i.test(String(p[p.length - 1])));
  const variants: fc.WeightedArbitrary<unknown>[] = [
    { arbitrary: hostileValue, weight: 1 },
    { arbitrary: fc.anything({ maxDepth: 3 }), weight: 1 },
  ];
  if (paths.length > 0) {
    // A hostile value in one field of an otherwise valid input gets past the shallow checks.
    variants.push(
      {
        arbitrary: fc
          .tuple(fc.constantFrom(...paths), hostileValue)
          .map(([p, v]) => withValueAt(base, p, v)),
        weight: 6,
      },
      {
        arbitrary: fc
          .tuple(massAssignmentKeys, fc.anything({ maxDepth: 1 }))
          .map(([k, v]) => withExtraKey(base, k, v)),
        weight: 1,
      },
    );
  }
  if (keys.length > 0) {
    variants.push({ arbitrary: fc.constantFrom(...keys).map((k) => without(base, k)), weight: 1 });
  }
  if (idPaths.length > 0) {
    variants.push({
      arbitrary: fc
        .tuple(fc.constantFrom(...idPaths), fc.constantFrom(...foreignIds))
        .map(([p, id]) => withValueAt(base, p, id)),
      weight: 2,
    });
  }
  return fc.oneof(...variants);
}

interface ProcedureCase {
  name: string;
  actors: Actor[];
  base: () => unknown;
  call: (caller: Caller, input: never) => Promise<unknown>;
}

const readers: Actor[] = ["anonymous", "owner", "viewer", "other", "admin"];
const destructive: Actor[] = ["anonymous", "viewer", "other"];
/** Writers' procedures, fuzzed as those who may not write and the owner. */
const writers: Actor[] = ["anonymous", "viewer", "other", "owner"];
const step = () => ({
  stepNumber: 2,
  stepDescription: "second",
  result: "pass",
  errorMessage: "none",
  startedAt: "2026-01-01T00:00:00Z",
  completedAt: "2026-01-01T00:00:01Z",
});

// auth.logout is left out: it takes no input, and succeeding would end the session under test.
const PROCEDURES: ProcedureCase[] = [
  {
    name: "auth.login",
    actors: ["anonymous"],
    base: () => ({ email: "member@example.test", password: "wrong password" }),
    call: (c, i) => c.auth.login(i),
  },
  { name: "auth.me", actors: readers, base: () => undefined, call: (c) => c.auth.me() },
  {
    name: "auth.createApiToken",
    actors: ["anonymous", "viewer", "other"],
    base: () => ({
      name: "ci",
      expiresAt: "2999-01-01T00:00:00Z",
      projectId: ids.projectId,
      role: "maintainer",
    }),
    call: (c, i) => c.auth.createApiToken(i),
  },
  {
    name: "auth.listApiTokens",
    actors: readers,
    base: () => undefined,
    call: (c) => c.auth.listApiTokens(),
  },
  {
    name: "auth.revokeApiToken",
    actors: destructive,
    base: () => ({ id: ids.tokenId }),
    call: (c, i) => c.auth.revokeApiToken(i),
  },
  {
    name: "user.create",
    actors: ["anonymous", "other", "owner"],
    base: () => ({
      email: "new@example.test",
      name: "New",
      password: "long enough password",
      role: "admin",
    }),
    call: (c, i) => c.user.create(i),
  },
  { name: "user.list", actors: readers, base: () => undefined, call: (c) => c.user.list() },
  {
    name: "user.delete",
    actors: ["anonymous", "other", "owner"],
    base: () => ({ id: ids.userId }),
    call: (c, i) => c.user.delete(i),
  },
  {
    name: "testCase.create",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      title: "t",
      description: "d",
      steps: [{ description: "s", expectedResult: "e" }],
      tags: ["x"],
    }),
    call: (c, i) => c.testCase.create(i),
  },
  {
    name: "testCase.ensure",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      key: "tests/cart.spec.ts › adds an item",
      title: "adds an item",
      tags: ["x"],
    }),
    call: (c, i) => c.testCase.ensure(i),
  },
  {
    name: "testCase.ensureMany",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      testCases: [
        { key: "tests/cart.spec.ts › a", title: "a" },
        { key: "tests/cart.spec.ts › b", title: "b", tags: ["y"] },
      ],
    }),
    call: (c, i) => c.testCase.ensureMany(i),
  },
  {
    name: "testCase.get",
    actors: readers,
    base: () => ({ id: ids.testCaseId }),
    call: (c, i) => c.testCase.get(i),
  },
  {
    name: "testCase.list",
    actors: readers,
    base: () => ({ projectId: ids.projectId, search: "case", tag: "a", skip: 0, limit: 10 }),
    call: (c, i) => c.testCase.list(i),
  },
  {
    name: "testCase.update",
    actors: writers,
    base: () => ({ id: ids.testCaseId, title: "renamed", tags: ["a"] }),
    call: (c, i) => c.testCase.update(i),
  },
  {
    name: "testCase.delete",
    actors: destructive,
    base: () => ({ id: ids.testCaseId }),
    call: (c, i) => c.testCase.delete(i),
  },
  {
    name: "execution.start",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      testCaseId: ids.testCaseId,
      browser: "chromium",
      environment: "dev",
      baseUrl: "https://example.test",
      triggeredBy: "ci_cd",
      triggerDetails: "build 1",
      idempotencyKey: "k1",
    }),
    call: (c, i) => c.execution.start(i),
  },
  {
    name: "execution.history",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      testCaseId: ids.testCaseId,
      cursor: ids.cursor,
      limit: 10,
    }),
    call: (c, i) => c.execution.history(i),
  },
  {
    name: "execution.list",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      status: "running",
      result: "pass",
      browser: "chromium",
      environment: "dev",
      testCaseId: ids.testCaseId,
      cursor: ids.cursor,
      limit: 10,
    }),
    call: (c, i) => c.execution.list(i),
  },
  {
    name: "execution.get",
    actors: readers,
    base: () => ({ id: ids.executionId }),
    call: (c, i) => c.execution.get(i),
  },
  {
    name: "execution.update",
    actors: writers,
    base: () => ({
      id: ids.executionId,
      status: "running",
      consoleLog: "log",
      errorMessage: "e",
      screenshotPath: "a.png",
      videoPath: "v.webm",
      startedAt: "2026-01-01T00:00:00Z",
      completedAt: "2026-01-01T00:01:00Z",
    }),
    call: (c, i) => c.execution.update(i),
  },
  {
    name: "execution.delete",
    actors: destructive,
    base: () => ({ id: ids.executionId }),
    call: (c, i) => c.execution.delete(i),
  },
  {
    name: "artifact.delete",
    actors: destructive,
    base: () => ({ id: artifactRowId }),
    call: (c, i) => c.artifact.delete(i),
  },
  {
    name: "step.record",
    actors: writers,
    base: () => ({ executionId: ids.executionId, steps: [step()] }),
    call: (c, i) => c.step.record(i),
  },
  {
    name: "step.list",
    actors: readers,
    base: () => ({ executionId: ids.executionId }),
    call: (c, i) => c.step.list(i),
  },
  {
    name: "step.update",
    actors: writers,
    base: () => ({ id: ids.stepId, result: "fail", actualResult: "x" }),
    call: (c, i) => c.step.update(i),
  },
  {
    name: "stats.get",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      testCaseId: ids.testCaseId,
      since: "2026-01-01T00:00:00Z",
    }),
    call: (c, i) => c.stats.get(i),
  },
  {
    name: "run.start",
    actors: writers,
    base: () => ({
      projectId: ids.projectId,
      key: "gh:1234:5",
      name: "CI",
      branch: "main",
      commitSha: "0123abcd",
      commitMessage: "Fix the cart",
      pullRequest: "42",
      ciProvider: "github",
      ciUrl: "https://ci.example.test/1",
      expectedShards: 2,
      shard: 1,
      attempt: 0,
    }),
    call: (c, i) => c.run.start(i),
  },
  {
    name: "run.finishShard",
    actors: writers,
    base: () => ({ runId: ids.runId, shard: 1 }),
    call: (c, i) => c.run.finishShard(i),
  },
  {
    name: "run.finish",
    actors: destructive,
    base: () => ({ runId: ids.runId, status: "passed" }),
    call: (c, i) => c.run.finish(i),
  },
  {
    name: "run.cancel",
    actors: destructive,
    base: () => ({ runId: ids.runId }),
    call: (c, i) => c.run.cancel(i),
  },
  {
    name: "run.delete",
    actors: destructive,
    base: () => ({ id: ids.runId }),
    call: (c, i) => c.run.delete(i),
  },
  {
    name: "run.list",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      branch: "main",
      status: "running",
      cursor: ids.runCursor,
      limit: 10,
    }),
    call: (c, i) => c.run.list(i),
  },
  {
    name: "run.get",
    actors: readers,
    base: () => ({
      id: ids.runId,
      outcome: "failed",
      search: "cart",
      cursor: ids.testCaseId,
      limit: 10,
    }),
    call: (c, i) => c.run.get(i),
  },
  {
    name: "run.compare",
    actors: readers,
    base: () => ({ runId: ids.runId, baseRunId: ids.runId, limit: 10 }),
    call: (c, i) => c.run.compare(i),
  },
  {
    name: "health.failureGroups",
    actors: readers,
    base: () => ({ projectId: ids.projectId, runId: ids.runId, limit: 10 }),
    call: (c, i) => c.health.failureGroups(i),
  },
  {
    name: "health.test",
    actors: readers,
    base: () => ({ testCaseId: ids.testCaseId, limit: 20, window: 14 }),
    call: (c, i) => c.health.test(i),
  },
  {
    name: "health.flaky",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      window: 14,
      cursor: Buffer.from("2:250000:1").toString("base64url"),
      limit: 10,
    }),
    call: (c, i) => c.health.flaky(i),
  },
  {
    name: "health.rebuild",
    actors: destructive,
    base: () => ({ projectId: ids.projectId }),
    call: (c, i) => c.health.rebuild(i),
  },
  {
    name: "webhook.create",
    actors: destructive,
    base: () => ({
      projectId: ids.projectId,
      url: "https://hooks.example.com/new",
      events: ["run.finished", "test.flaky"],
      format: "slack",
      onlyFailedRuns: true,
      branch: "main",
    }),
    call: (c, i) => c.webhook.create(i),
  },
  {
    name: "webhook.list",
    actors: readers,
    base: () => ({ projectId: ids.projectId, cursor: ids.webhookId, limit: 10 }),
    call: (c, i) => c.webhook.list(i),
  },
  {
    name: "webhook.update",
    actors: destructive,
    base: () => ({
      id: ids.webhookId,
      url: "https://hooks.example.com/changed",
      events: ["test.new_failure"],
      format: "json",
      onlyFailedRuns: false,
      branch: null,
      enabled: true,
    }),
    call: (c, i) => c.webhook.update(i),
  },
  {
    name: "webhook.delete",
    actors: destructive,
    base: () => ({ id: ids.webhookId }),
    call: (c, i) => c.webhook.delete(i),
  },
  {
    name: "webhook.test",
    actors: destructive,
    base: () => ({ id: ids.webhookId }),
    call: (c, i) => c.webhook.test(i),
  },
  {
    name: "webhook.deliveries",
    actors: readers,
    base: () => ({ webhookId: ids.webhookId, status: "failed", cursor: 5, limit: 10 }),
    call: (c, i) => c.webhook.deliveries(i),
  },
  {
    name: "quarantine.add",
    actors: destructive,
    base: () => ({
      testCaseId: ids.testCaseId,
      reason: "flaky on CI",
      expiresAt: "2999-01-01T00:00:00Z",
    }),
    call: (c, i) => c.quarantine.add(i),
  },
  {
    name: "quarantine.remove",
    actors: destructive,
    base: () => ({ testCaseId: ids.testCaseId }),
    call: (c, i) => c.quarantine.remove(i),
  },
  {
    name: "quarantine.list",
    actors: readers,
    base: () => ({
      projectId: ids.projectId,
      includeExpired: true,
      cursor: ids.runCursor,
      limit: 10,
    }),
    call: (c, i) => c.quarantine.list(i),
  },
  {
    name: "project.create",
    actors: readers,
    base: () => ({ slug: "web-shop", name: "Web shop", defaultBranch: "main", retentionDays: 30 }),
    call: (c, i) => c.project.create(i),
  },
  {
    name: "project.list",
    actors: readers,
    base: () => ({ cursor: ids.projectId, limit: 10 }),
    call: (c, i) => c.project.list(i),
  },
  {
    name: "project.get",
    actors: readers,
    base: () => ({ id: ids.projectId }),
    call: (c, i) => c.project.get(i),
  },
  {
    name: "project.update",
    actors: destructive,
    base: () => ({
      id: ids.projectId,
      slug: "renamed",
      name: "Renamed",
      defaultBranch: "trunk",
      retentionDays: 7,
    }),
    call: (c, i) => c.project.update(i),
  },
  {
    name: "project.delete",
    actors: destructive,
    base: () => ({ id: ids.projectId }),
    call: (c, i) => c.project.delete(i),
  },
  {
    name: "project.members",
    actors: readers,
    base: () => ({ projectId: ids.projectId, cursor: ids.userId, limit: 10 }),
    call: (c, i) => c.project.members(i),
  },
  {
    name: "project.addMember",
    actors: destructive,
    base: () => ({ projectId: ids.projectId, email: "someone@example.test", role: "member" }),
    call: (c, i) => c.project.addMember(i),
  },
  {
    name: "project.updateMember",
    actors: destructive,
    base: () => ({ projectId: ids.projectId, userId: ids.userId, role: "viewer" }),
    call: (c, i) => c.project.updateMember(i),
  },
  {
    name: "project.removeMember",
    actors: destructive,
    base: () => ({ projectId: ids.projectId, userId: ids.userId }),
    call: (c, i) => c.project.removeMember(i),
  },
];

describe("hostile input", () => {
  it("answers 10,000+ generated hostile inputs across every procedure with typed errors only, and a rejected call changes nothing", async () => {
    let tried = 0;
    let rejected = 0;
    const internal: string[] = [];
    const changedOnRejection: string[] = [];
    let snapshot = await tableSnapshot(h.db);

    for (const procedure of PROCEDURES) {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...procedure.actors),
          hostileInputs(procedure.base()),
          async (actor, input) => {
            tried++;
            try {
              await procedure.call(callers[actor], input as never);
              snapshot = await tableSnapshot(h.db);
            } catch (error) {
              rejected++;
              const code = error instanceof TRPCError ? error.code : "NOT_A_TRPC_ERROR";
              if (!TYPED_CODES.has(code)) {
                internal.push(
                  `${procedure.name} as ${actor}: ${code} ${String(error)} for ${preview(input)}`,
                );
              }
              const after = await tableSnapshot(h.db);
              if (JSON.stringify(after) !== JSON.stringify(snapshot)) {
                changedOnRejection.push(`${procedure.name} as ${actor}: ${preview(input)}`);
                snapshot = after;
              }
            }
          },
        ),
        { numRuns: RUNS_PER_PROCEDURE, seed: 20261124 },
      );
    }

    console.log(
      `hostile input: ${tried} inputs over ${PROCEDURES.length} procedures, ${rejected} rejected, ` +
        `${internal.length} untyped/internal errors, ${changedOnRejection.length} rejected calls that changed data`,
    );
    expect(tried).toBeGreaterThanOrEqual(10_000);
    expect(internal).toEqual([]);
    expect(changedOnRejection).toEqual([]);
  }, 600_000);
});

/** The values of each class a field of that kind must survive, by the name of the field. */
function classValuesFor(path: Path): unknown[] {
  const field = String(path[path.length - 1]);
  if (field === "cursor") return FORGED_CURSORS;
  if (/At$|^since$/.test(field)) return EDGE_DATES;
  return BROKEN_TEXT;
}

describe("hostile input classes", () => {
  it("answers broken text, edge dates and forged cursors in every field of every procedure with typed errors only", async () => {
    let tried = 0;
    const internal: string[] = [];
    const changedOnRejection: string[] = [];
    let snapshot = await tableSnapshot(h.db);
    for (const procedure of PROCEDURES) {
      const base = procedure.base();
      const paths = base && typeof base === "object" ? leafPaths(base) : [];
      // The most capable caller the case allows, so the input gets past authorization.
      const actor =
        procedure.actors.find((a) => a === "owner") ?? procedure.actors.at(-1) ?? "owner";
      for (const path of paths) {
        for (const value of classValuesFor(path)) {
          tried++;
          const input = withValueAt(base, path, value);
          try {
            await procedure.call(callers[actor], input as never);
            snapshot = await tableSnapshot(h.db);
          } catch (error) {
            const code = error instanceof TRPCError ? error.code : "NOT_A_TRPC_ERROR";
            if (!TYPED_CODES.has(code)) {
              internal.push(
                `${procedure.name} ${path.join(".")}: ${code} ${String(error)} for ${preview(value)}`,
              );
            }
            const after = await tableSnapshot(h.db);
            if (JSON.stringify(after) !== JSON.stringify(snapshot)) {
              changedOnRejection.push(`${procedure.name} ${path.join(".")}: ${preview(value)}`);
              snapshot = after;
            }
          }
        }
      }
    }
    console.log(
      `hostile input classes: ${tried} inputs, ${internal.length} untyped/internal errors`,
    );
    expect(tried).toBeGreaterThan(300);
    expect(internal).toEqual([]);
    expect(changedOnRejection).toEqual([]);
  }, 300_000);
});

function preview(input: unknown): string {
  try {
    const text = JSON.stringify(input) ?? String(input);
    return text.length > 200 ? `${text.slice(0, 200)}…` : text;
  } catch {
    return String(input);
  }
}

/** A REST route of /api/v1, fuzzed through its path parameter, its query or its JSON body. */
interface RestCase {
  method: "GET" | "POST" | "PATCH" | "DELETE";
  /** The path with `{}` where the fuzzed path parameter goes, and its valid value. */
  path: string;
  id: () => number;
  base: () => Record<string, unknown>;
  /** The input goes in the query and the body is raw bytes (the artifact upload). */
  rawBody?: boolean;
}

/** An artifact of the owner's execution and its signed URL's query, made by the REST fuzz. */
let artifact = { id: 0, expires: "", signature: "" };

const REST_CASES: RestCase[] = [
  {
    method: "POST",
    path: "/tests/{}/execute",
    id: () => ids.testCaseId,
    base: () => ({ browser: "chromium", environment: "qa", triggeredBy: "ci_cd" }),
  },
  {
    method: "GET",
    path: "/tests/{}/executions",
    id: () => ids.testCaseId,
    base: () => ({ skip: 0, limit: 5 }),
  },
  {
    method: "GET",
    path: "/executions",
    id: () => 0,
    base: () => ({
      test_case_id: ids.testCaseId,
      status: "running",
      result: "pass",
      browser: "chromium",
      environment: "qa",
      skip: 0,
      limit: 5,
    }),
  },
  {
    method: "GET",
    path: "/executions/stats",
    id: () => 0,
    base: () => ({ test_case_id: ids.testCaseId, since: "2026-01-01T00:00:00Z" }),
  },
  { method: "GET", path: "/executions/{}", id: () => ids.executionId, base: () => ({}) },
  {
    method: "PATCH",
    path: "/executions/{}",
    id: () => ids.executionId,
    base: () => ({ consoleLog: "fuzz", durationSeconds: 1 }),
  },
  {
    method: "POST",
    path: "/executions/{}/steps",
    id: () => ids.executionId,
    base: () => ({ steps: [step()] }),
  },
  {
    method: "POST",
    path: "/tests/ensure-many",
    id: () => 0,
    base: () => ({ projectId: ids.projectId, testCases: [{ key: "fuzz.py::test_a", title: "A" }] }),
  },
  {
    method: "POST",
    path: "/executions/{}/artifacts",
    id: () => ids.executionId,
    base: () => ({ name: "shot.png", kind: "screenshot", contentType: "image/png", stepNumber: 1 }),
    rawBody: true,
  },
  { method: "GET", path: "/artifacts/{}", id: () => artifact.id, base: () => ({}) },
  {
    method: "GET",
    path: "/artifacts/{}",
    id: () => artifact.id,
    base: () => ({ expires: artifact.expires, signature: artifact.signature }),
  },
  { method: "DELETE", path: "/artifacts/{}", id: () => artifact.id, base: () => ({}) },
  { method: "DELETE", path: "/runs/{}", id: () => ids.runId, base: () => ({}) },
  // Last: it may delete the execution the others use.
  { method: "DELETE", path: "/executions/{}", id: () => ids.executionId, base: () => ({}) },
];

function pathSegment(value: unknown): string {
  try {
    return encodeURIComponent(String(value));
  } catch {
    return "%ED%A0%BD"; // a lone surrogate, as UTF-8 bytes
  }
}

function queryOf(input: unknown): string {
  if (!input || typeof input !== "object") return `q=${pathSegment(input)}`;
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(input)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      query.append(
        key,
        typeof item === "object" && item !== null ? JSON.stringify(item) : String(item),
      );
    }
  }
  return query.toString();
}

describe("hostile REST input", () => {
  it("answers hostile paths, queries and bodies on the REST routes without a 5xx", async () => {
    const server = await startTestServer({ database: h, maxBodyBytes: 2 * 1024 * 1024 });
    const serverErrors: string[] = [];
    let tried = 0;
    try {
      const uploaded = await fetch(
        `${server.url}/api/v1/executions/${ids.executionId}/artifacts?name=a.png&kind=screenshot`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${tokens.owner}`, "content-type": "image/png" },
          body: "not really a png",
        },
      );
      const { id, url } = (await uploaded.json()) as { id: number; url: string };
      const signed = new URL(url, server.url).searchParams;
      artifact = {
        id,
        expires: signed.get("expires") ?? "",
        signature: signed.get("signature") ?? "",
      };
      for (const route of REST_CASES) {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom<Actor>("owner", "viewer", "other", "anonymous"),
            fc.oneof(
              { arbitrary: fc.constant(route.id()), weight: 3 },
              { arbitrary: hostileValue, weight: 1 },
            ),
            hostileInputs(route.base()),
            fc.constantFrom(
              "application/json",
              "application/json; charset=utf-8",
              "text/plain",
              null,
            ),
            async (actor, id, input, contentType) => {
              tried++;
              const token = tokens[actor];
              const path = route.path.replace("{}", pathSegment(id));
              const readsQuery =
                route.method === "GET" || route.method === "DELETE" || route.rawBody === true;
              let body: string | undefined;
              try {
                body = readsQuery && !route.rawBody ? undefined : (JSON.stringify(input) ?? "raw");
              } catch {
                body = "{";
              }
              const response = await fetch(
                `${server.url}/api/v1${path}${readsQuery ? `?${queryOf(input)}` : ""}`,
                {
                  method: route.method,
                  headers: {
                    ...(token ? { authorization: `Bearer ${token}` } : {}),
                    ...(contentType && body !== undefined ? { "content-type": contentType } : {}),
                  },
                  body,
                },
              );
              const text = await response.text();
              if (response.status >= 500 || text.includes("    at ")) {
                serverErrors.push(
                  `${route.method} ${path} as ${actor}: ${response.status} ${text.slice(0, 200)} for ${preview(input)}`,
                );
              }
            },
          ),
          { numRuns: 150, seed: 20261124 },
        );
      }
    } finally {
      await server.close();
    }
    console.log(`hostile REST input: ${tried} requests, ${serverErrors.length} 5xx answers`);
    expect(tried).toBeGreaterThanOrEqual(REST_CASES.length * 150);
    expect(serverErrors).toEqual([]);
  }, 300_000);
});
