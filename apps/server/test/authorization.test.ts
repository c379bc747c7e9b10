import { randomUUID } from "node:crypto";
import { artifacts, createApiToken } from "@testtrack/core";
import { createTestUser, openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appRouter } from "../src/router";
import {
  type Caller,
  callerAs,
  callerWith,
  createTestPrincipal,
  type OwnedObjects,
  outcomeOf,
  startTestServer,
  type TestPrincipal,
  type TestServer,
} from "./fixtures";

/**
 * Every procedure run by seven callers against objects of one shared project: its viewer, member
 * and maintainer, a signed-in user who is not a member, a project token of another project
 * (whose user maintains this one too, so only the token's reach stops it), an admin, and no one.
 * An expected cell is a tRPC error code, "ok" (the call succeeds), or for lists "sees" / "hidden"
 * (the call succeeds and the project's object is, or is not, in the answer).
 */
type Role =
  | "anonymous"
  | "viewer"
  | "member"
  | "maintainer"
  | "nonMember"
  | "foreignToken"
  | "admin";
type Expected = "ok" | "sees" | "hidden" | "UNAUTHORIZED" | "FORBIDDEN" | "NOT_FOUND";

/** The shared project's objects, created afresh for every cell. */
interface ProjectObjects extends OwnedObjects {
  projectId: number;
  runId: number;
  webhookId: number;
  /** An artifact row of the execution (its bytes are not needed by the procedures). */
  artifactId: number;
  /** A member no cell is, whom membership rows change. */
  extraUserId: number;
}

interface Row {
  procedure: string;
  call(caller: Caller, fx: ProjectObjects): Promise<unknown>;
  /** For "sees" / "hidden" cells: whether the answer includes the project's object. */
  sees?(answer: never, fx: ProjectObjects): boolean;
  expect: Record<Role, Expected>;
}

const SIGNED_IN_ONLY = {
  anonymous: "UNAUTHORIZED",
  viewer: "ok",
  member: "ok",
  maintainer: "ok",
  nonMember: "ok",
  foreignToken: "ok",
  admin: "ok",
} as const;
/** Users only: a project token may not do it. */
const USER_TOKENS_ONLY = { ...SIGNED_IN_ONLY, foreignToken: "FORBIDDEN" } as const;
const READ = {
  anonymous: "UNAUTHORIZED",
  viewer: "ok",
  member: "ok",
  maintainer: "ok",
  nonMember: "NOT_FOUND",
  foreignToken: "NOT_FOUND",
  admin: "ok",
} as const;
const WRITE = { ...READ, viewer: "FORBIDDEN" } as const;
const MANAGE = { ...WRITE, member: "FORBIDDEN" } as const;
const LISTED = {
  anonymous: "UNAUTHORIZED",
  viewer: "sees",
  member: "sees",
  maintainer: "sees",
  nonMember: "NOT_FOUND",
  foreignToken: "NOT_FOUND",
  admin: "sees",
} as const;
const ADMIN_ONLY = {
  anonymous: "UNAUTHORIZED",
  viewer: "FORBIDDEN",
  member: "FORBIDDEN",
  maintainer: "FORBIDDEN",
  nonMember: "FORBIDDEN",
  foreignToken: "FORBIDDEN",
  admin: "ok",
} as const;

let db: TestDatabase;
let principals: Record<Exclude<Role, "anonymous">, TestPrincipal>;
/** The project the foreign token reaches instead. */
let foreignProjectId: number;
let emailCounter = 0;
let slugCounter = 0;

const rows: Row[] = [
  {
    procedure: "auth.login",
    call: async (caller) => {
      const user = await createTestUser(db);
      return caller.auth.login({ email: user.email, password: "correct horse battery staple" });
    },
    expect: { ...SIGNED_IN_ONLY, anonymous: "ok" },
  },
  { procedure: "auth.me", call: (caller) => caller.auth.me(), expect: { ...SIGNED_IN_ONLY } },
  {
    procedure: "auth.logout",
    call: (caller) => caller.auth.logout(),
    expect: { ...SIGNED_IN_ONLY },
  },
  {
    procedure: "auth.createApiToken",
    // A read-only token for the project: anyone who may read it may issue one.
    call: (caller, fx) =>
      caller.auth.createApiToken({ name: "matrix", projectId: fx.projectId, role: "viewer" }),
    expect: { ...READ, foreignToken: "FORBIDDEN" },
  },
  {
    procedure: "auth.listApiTokens",
    call: (caller) => caller.auth.listApiTokens(),
    sees: (tokens: { id: number }[], fx) => tokens.some((t) => t.id === fx.apiTokenId),
    // API tokens are personal: not even an admin lists someone else's.
    expect: {
      anonymous: "UNAUTHORIZED",
      viewer: "hidden",
      member: "hidden",
      maintainer: "sees",
      nonMember: "hidden",
      foreignToken: "FORBIDDEN",
      admin: "hidden",
    },
  },
  {
    procedure: "auth.revokeApiToken",
    call: (caller, fx) => caller.auth.revokeApiToken({ id: fx.apiTokenId }),
    // API tokens are personal: an admin removes a user instead of revoking their tokens.
    expect: {
      anonymous: "UNAUTHORIZED",
      viewer: "NOT_FOUND",
      member: "NOT_FOUND",
      maintainer: "ok",
      nonMember: "NOT_FOUND",
      foreignToken: "FORBIDDEN",
      admin: "NOT_FOUND",
    },
  },
  {
    procedure: "user.create",
    call: (caller) =>
      caller.user.create({
        email: `matrix-${++emailCounter}@example.test`,
        name: "Matrix",
        password: "long enough password",
      }),
    expect: { ...ADMIN_ONLY },
  },
  { procedure: "user.list", call: (caller) => caller.user.list(), expect: { ...ADMIN_ONLY } },
  {
    procedure: "retention.preview",
    call: (caller) => caller.retention.preview(),
    expect: { ...ADMIN_ONLY },
  },
  {
    procedure: "user.delete",
    call: async (caller) => caller.user.delete({ id: (await createTestUser(db)).id }),
    expect: { ...ADMIN_ONLY },
  },
  {
    procedure: "project.create",
    call: (caller) => caller.project.create({ slug: `matrix-${++slugCounter}`, name: "Matrix" }),
    expect: { ...USER_TOKENS_ONLY },
  },
  {
    procedure: "project.list",
    call: (caller) => caller.project.list({ limit: 100 }),
    sees: (page: { items: { id: number }[] }, fx) => page.items.some((p) => p.id === fx.projectId),
    expect: { ...LISTED, nonMember: "hidden", foreignToken: "hidden" },
  },
  {
    procedure: "project.get",
    call: (caller, fx) => caller.project.get({ id: fx.projectId }),
    expect: { ...READ },
  },
  {
    procedure: "project.update",
    call: (caller, fx) => caller.project.update({ id: fx.projectId, name: "Renamed" }),
    expect: { ...MANAGE },
  },
  {
    procedure: "project.delete",
    call: (caller, fx) => caller.project.delete({ id: fx.projectId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "project.members",
    call: (caller, fx) => caller.project.members({ projectId: fx.projectId }),
    expect: { ...READ },
  },
  {
    procedure: "project.addMember",
    call: async (caller, fx) =>
      caller.project.addMember({
        projectId: fx.projectId,
        email: (await createTestUser(db)).email,
        role: "member",
      }),
    expect: { ...MANAGE },
  },
  {
    procedure: "project.updateMember",
    call: (caller, fx) =>
      caller.project.updateMember({
        projectId: fx.projectId,
        userId: fx.extraUserId,
        role: "viewer",
      }),
    expect: { ...MANAGE },
  },
  {
    procedure: "project.removeMember",
    call: (caller, fx) =>
      caller.project.removeMember({ projectId: fx.projectId, userId: fx.extraUserId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "run.start",
    call: (caller, fx) =>
      caller.run.start({ projectId: fx.projectId, key: "matrix-build", shard: 1 }),
    expect: { ...WRITE },
  },
  {
    procedure: "run.finishShard",
    call: (caller, fx) => caller.run.finishShard({ runId: fx.runId, shard: 1 }),
    expect: { ...WRITE },
  },
  {
    procedure: "run.finish",
    call: (caller, fx) => caller.run.finish({ runId: fx.runId }),
    expect: { ...WRITE },
  },
  {
    procedure: "run.cancel",
    call: (caller, fx) => caller.run.cancel({ runId: fx.runId }),
    expect: { ...WRITE },
  },
  {
    procedure: "run.delete",
    call: (caller, fx) => caller.run.delete({ id: fx.runId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "run.list",
    call: (caller, fx) => caller.run.list({ projectId: fx.projectId }),
    sees: (page: { items: { id: number }[] }, fx) => page.items.some((r) => r.id === fx.runId),
    expect: { ...LISTED },
  },
  {
    procedure: "run.get",
    call: (caller, fx) => caller.run.get({ id: fx.runId }),
    expect: { ...READ },
  },
  {
    procedure: "run.compare",
    call: (caller, fx) => caller.run.compare({ runId: fx.runId }),
    expect: { ...READ },
  },
  {
    procedure: "health.failureGroups",
    call: (caller, fx) => caller.health.failureGroups({ runId: fx.runId }),
    expect: { ...READ },
  },
  {
    procedure: "health.test",
    call: (caller, fx) => caller.health.test({ testCaseId: fx.testCaseId }),
    expect: { ...READ },
  },
  {
    procedure: "health.flaky",
    call: (caller, fx) => caller.health.flaky({ projectId: fx.projectId }),
    expect: { ...READ },
  },
  {
    procedure: "health.rebuild",
    call: (caller, fx) => caller.health.rebuild({ projectId: fx.projectId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.create",
    call: (caller, fx) =>
      caller.webhook.create({
        projectId: fx.projectId,
        url: "https://hooks.example.com/new",
        events: ["test.flaky"],
      }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.list",
    call: (caller, fx) => caller.webhook.list({ projectId: fx.projectId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.update",
    call: (caller, fx) => caller.webhook.update({ id: fx.webhookId, onlyFailedRuns: true }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.delete",
    call: (caller, fx) => caller.webhook.delete({ id: fx.webhookId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.test",
    call: (caller, fx) => caller.webhook.test({ id: fx.webhookId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "webhook.deliveries",
    call: (caller, fx) => caller.webhook.deliveries({ webhookId: fx.webhookId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "quarantine.add",
    call: (caller, fx) =>
      caller.quarantine.add({ testCaseId: fx.testCaseId, reason: "matrix: flaky" }),
    expect: { ...MANAGE },
  },
  {
    procedure: "quarantine.remove",
    call: (caller, fx) => caller.quarantine.remove({ testCaseId: fx.testCaseId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "quarantine.list",
    call: (caller, fx) => caller.quarantine.list({ projectId: fx.projectId }),
    expect: { ...WRITE },
  },
  {
    procedure: "testCase.create",
    call: (caller, fx) => caller.testCase.create({ projectId: fx.projectId, title: "Matrix" }),
    expect: { ...WRITE },
  },
  {
    procedure: "testCase.ensure",
    call: (caller, fx) =>
      caller.testCase.ensure({
        projectId: fx.projectId,
        key: "matrix.spec.ts › ensure",
        title: "Ensure",
      }),
    expect: { ...WRITE },
  },
  {
    procedure: "testCase.ensureMany",
    call: (caller, fx) =>
      caller.testCase.ensureMany({
        projectId: fx.projectId,
        testCases: [
          { key: "matrix.spec.ts › a", title: "A" },
          { key: "matrix.spec.ts › b", title: "B", tags: ["matrix"] },
        ],
      }),
    expect: { ...WRITE },
  },
  {
    procedure: "testCase.get",
    call: (caller, fx) => caller.testCase.get({ id: fx.testCaseId }),
    expect: { ...READ },
  },
  {
    procedure: "testCase.list",
    call: (caller, fx) => caller.testCase.list({ projectId: fx.projectId, limit: 100 }),
    sees: (page: { items: { id: number }[] }, fx) => page.items.some((t) => t.id === fx.testCaseId),
    expect: { ...LISTED },
  },
  {
    procedure: "testCase.update",
    call: (caller, fx) => caller.testCase.update({ id: fx.testCaseId, title: "Renamed" }),
    expect: { ...WRITE },
  },
  {
    procedure: "testCase.delete",
    call: (caller, fx) => caller.testCase.delete({ id: fx.testCaseId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "execution.start",
    call: (caller, fx) => caller.execution.start({ testCaseId: fx.testCaseId }),
    expect: { ...WRITE },
  },
  {
    procedure: "execution.history",
    call: (caller, fx) => caller.execution.history({ testCaseId: fx.testCaseId }),
    expect: { ...READ },
  },
  {
    procedure: "execution.list",
    call: (caller, fx) => caller.execution.list({ projectId: fx.projectId, limit: 100 }),
    sees: (page: { items: { id: number }[] }, fx) =>
      page.items.some((e) => e.id === fx.executionId),
    expect: { ...LISTED },
  },
  {
    procedure: "execution.get",
    call: (caller, fx) => caller.execution.get({ id: fx.executionId }),
    expect: { ...READ },
  },
  {
    procedure: "execution.update",
    call: (caller, fx) => caller.execution.update({ id: fx.executionId, consoleLog: "matrix" }),
    expect: { ...WRITE },
  },
  {
    procedure: "execution.delete",
    call: (caller, fx) => caller.execution.delete({ id: fx.executionId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "execution.onSteps",
    call: async (caller, fx) => {
      // The first event (the execution as it is now); leaving the loop ends the subscription.
      for await (const event of await caller.execution.onSteps({ executionId: fx.executionId })) {
        return event;
      }
    },
    expect: { ...READ },
  },
  {
    procedure: "step.record",
    call: (caller, fx) =>
      caller.step.record({
        executionId: fx.executionId,
        steps: { stepNumber: 2, stepDescription: "Pay", result: "pass" },
      }),
    expect: { ...WRITE },
  },
  {
    procedure: "step.list",
    call: (caller, fx) => caller.step.list({ executionId: fx.executionId }),
    expect: { ...READ },
  },
  {
    procedure: "step.update",
    call: (caller, fx) => caller.step.update({ id: fx.stepId, result: "fail" }),
    expect: { ...WRITE },
  },
  {
    procedure: "artifact.delete",
    call: (caller, fx) => caller.artifact.delete({ id: fx.artifactId }),
    expect: { ...MANAGE },
  },
  {
    procedure: "stats.get",
    call: (caller, fx) => caller.stats.get({ projectId: fx.projectId, testCaseId: fx.testCaseId }),
    sees: (stats: { totalExecutions: number }) => stats.totalExecutions > 0,
    expect: { ...LISTED },
  },
];

const ROLES: Role[] = [
  "anonymous",
  "viewer",
  "member",
  "maintainer",
  "nonMember",
  "foreignToken",
  "admin",
];
const MISSING_ID = 2_000_000_000;
const missingObjects: ProjectObjects = {
  projectId: MISSING_ID,
  runId: MISSING_ID,
  webhookId: MISSING_ID,
  artifactId: MISSING_ID,
  extraUserId: MISSING_ID,
  testCaseId: MISSING_ID,
  executionId: MISSING_ID,
  stepId: MISSING_ID,
  apiTokenId: MISSING_ID,
};

beforeAll(async () => {
  db = await openTestDatabase();
  principals = {
    viewer: await createTestPrincipal(db),
    member: await createTestPrincipal(db),
    maintainer: await createTestPrincipal(db),
    nonMember: await createTestPrincipal(db),
    foreignToken: await createTestPrincipal(db),
    admin: await createTestPrincipal(db, "admin"),
  };
  const foreign = await principals.foreignToken.caller.project.create({
    slug: "matrix-foreign",
    name: "Foreign",
  });
  foreignProjectId = foreign.id;
});
afterAll(() => db.close());

/**
 * A fresh shared project with the three members (and the foreign token's user as a second
 * maintainer), a test case, a running execution with step 1, and an API token of the maintainer.
 */
async function createProjectObjects(): Promise<ProjectObjects> {
  const { caller } = principals.maintainer;
  const project = await caller.project.create({ slug: `shared-${++slugCounter}`, name: "Shared" });
  const add = (email: string, role: "viewer" | "member" | "maintainer") =>
    caller.project.addMember({ projectId: project.id, email, role });
  await add(principals.viewer.email, "viewer");
  await add(principals.member.email, "member");
  await add(principals.foreignToken.email, "maintainer");
  const extra = await createTestUser(db);
  await add(extra.email, "member");
  const testCase = await caller.testCase.create({ projectId: project.id, title: "Checkout" });
  const { executionId } = await caller.execution.start({
    testCaseId: testCase.id,
    browser: "chromium",
  });
  const recorded = await caller.step.record({
    executionId,
    steps: { stepNumber: 1, stepDescription: "Open the cart", result: "pass" },
  });
  const apiToken = await caller.auth.createApiToken({ name: "ci runner" });
  const run = await caller.run.start({ projectId: project.id, key: "build-1", expectedShards: 2 });
  const webhook = await caller.webhook.create({
    projectId: project.id,
    url: "https://hooks.example.com/matrix",
    events: ["run.finished"],
  });
  const stepId = recorded.steps[0]?.id;
  if (stepId === undefined) throw new Error("step.record returned no step");
  const [artifact] = await db.db
    .insert(artifacts)
    .values({
      projectId: project.id,
      executionId,
      kind: "screenshot",
      name: "matrix.png",
      contentType: "image/png",
      size: 0,
      sha256: "0".repeat(64),
      storageKey: `${project.id}/${randomUUID()}`,
    })
    .returning({ id: artifacts.id });
  if (!artifact) throw new Error("no artifact row");
  return {
    projectId: project.id,
    runId: run.id,
    webhookId: webhook.id,
    artifactId: artifact.id,
    extraUserId: extra.id,
    testCaseId: testCase.id,
    executionId,
    stepId,
    apiTokenId: apiToken.id,
  };
}

/** A caller for the cell with a token of its own, so a logout in one cell spares the others. */
async function callerFor(role: Role): Promise<Caller> {
  if (role === "anonymous") return callerWith(db, null);
  if (role === "foreignToken") {
    const { token } = await createApiToken(db.db, principals.foreignToken.actor, {
      name: "foreign",
      projectId: foreignProjectId,
      role: "maintainer",
    });
    return callerWith(db, token);
  }
  return callerAs(db, principals[role].actor);
}

it("has a row for every procedure of appRouter", () => {
  const procedures = Object.keys(appRouter._def.procedures).sort();
  expect(rows.map((row) => row.procedure).sort()).toEqual(procedures);
});

describe.each(rows)("$procedure", (row) => {
  it.each(ROLES)("as %s answers as the matrix says", async (role) => {
    const fx = await createProjectObjects();
    const expected = row.expect[role];
    const outcome = await outcomeOf(row.call(await callerFor(role), fx));
    if (expected === "sees" || expected === "hidden") {
      expect(outcome.code).toBe("ok");
      if (outcome.code !== "ok" || !row.sees) throw new Error(`${row.procedure} has no sees()`);
      expect(row.sees(outcome.value as never, fx)).toBe(expected === "sees");
    } else {
      expect(outcome.code).toBe(expected);
    }
  });

  if (row.expect.nonMember === "NOT_FOUND") {
    it("hides another project's object exactly as a missing one", async () => {
      const fx = await createProjectObjects();
      const hidden = await outcomeOf(row.call(await callerFor("nonMember"), fx));
      const missing = await outcomeOf(row.call(await callerFor("maintainer"), missingObjects));
      expect(hidden.code).toBe("NOT_FOUND");
      expect(missing.code).toBe("NOT_FOUND");
      const shape = (outcome: typeof hidden) =>
        "message" in outcome ? outcome.message.replace(/\d+/g, "<id>") : "";
      expect(shape(hidden)).toBe(shape(missing));
      expect(shape(hidden)).toMatch(/^[A-Z][\w ]+ <id> was not found$/);
    });
  }
});

/**
 * The REST routes (/api/v1) over real HTTP with plain fetch: each answers every caller with the
 * HTTP status of the procedure's cell above, since it runs the same procedure.
 */
interface RestRow {
  procedure: string;
  request(fx: ProjectObjects): [method: string, path: string, body?: unknown];
}

const restRows: RestRow[] = [
  { procedure: "execution.start", request: (fx) => ["POST", `/tests/${fx.testCaseId}/execute`] },
  {
    procedure: "execution.history",
    request: (fx) => ["GET", `/tests/${fx.testCaseId}/executions?limit=10`],
  },
  {
    procedure: "execution.list",
    request: (fx) => ["GET", `/executions?projectId=${fx.projectId}&limit=100`],
  },
  { procedure: "execution.get", request: (fx) => ["GET", `/executions/${fx.executionId}`] },
  {
    procedure: "execution.update",
    request: (fx) => ["PATCH", `/executions/${fx.executionId}`, { consoleLog: "matrix" }],
  },
  { procedure: "execution.delete", request: (fx) => ["DELETE", `/executions/${fx.executionId}`] },
  { procedure: "artifact.delete", request: (fx) => ["DELETE", `/artifacts/${fx.artifactId}`] },
  { procedure: "run.delete", request: (fx) => ["DELETE", `/runs/${fx.runId}`] },
  {
    procedure: "stats.get",
    request: (fx) => [
      "GET",
      `/executions/stats?projectId=${fx.projectId}&test_case_id=${fx.testCaseId}`,
    ],
  },
  {
    procedure: "testCase.ensureMany",
    request: (fx) => [
      "POST",
      "/tests/ensure-many",
      { projectId: fx.projectId, testCases: [{ key: "matrix.py::test_a", title: "A" }] },
    ],
  },
  {
    procedure: "step.record",
    request: (fx) => [
      "POST",
      `/executions/${fx.executionId}/steps`,
      { steps: { stepNumber: 2, stepDescription: "Pay", result: "pass" } },
    ],
  },
  { procedure: "auth.me", request: () => ["GET", "/auth/me"] },
];

const HTTP_STATUS: Record<Expected, number> = {
  ok: 200,
  sees: 200,
  hidden: 200,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
};

async function tokenFor(role: Role): Promise<string | null> {
  if (role === "anonymous") return null;
  const options =
    role === "foreignToken"
      ? { name: "foreign", projectId: foreignProjectId, role: "maintainer" as const }
      : { name: "rest" };
  return (await createApiToken(db.db, principals[role].actor, options)).token;
}

describe("REST routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: db });
  });
  afterAll(() => server.close());

  describe.each(restRows)("$procedure", (restRow) => {
    const row = rows.find((candidate) => candidate.procedure === restRow.procedure);
    it.each(ROLES)("as %s answers with the matrix's status", async (role) => {
      if (!row) throw new Error(`${restRow.procedure} has no row in the matrix`);
      const fx = await createProjectObjects();
      const token = await tokenFor(role);
      const [method, path, body] = restRow.request(fx);
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const answer = (await response.json()) as { code?: string };
      expect(response.status, JSON.stringify(answer)).toBe(HTTP_STATUS[row.expect[role]]);
      if (response.status !== 200) expect(answer.code).toBe(row.expect[role]);
    });
  });
});

/**
 * The artifact routes (raw-body upload, download), which are HTTP routes beside the procedures:
 * uploading needs what recording results needs (member), downloading what reading does.
 */
describe("artifact routes", () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database: db });
  });
  afterAll(() => server.close());

  const artifactRows: {
    route: string;
    expect: Record<Role, Expected>;
    request(fx: ProjectObjects, artifactId: number): [method: string, path: string, body?: string];
    okStatus: number;
  }[] = [
    {
      route: "POST /executions/{id}/artifacts",
      expect: { ...WRITE },
      request: (fx) => ["POST", `/executions/${fx.executionId}/artifacts?name=a.png`, "bytes"],
      okStatus: 201,
    },
    {
      route: "GET /artifacts/{id}",
      expect: { ...READ },
      request: (_fx, artifactId) => ["GET", `/artifacts/${artifactId}`],
      okStatus: 200,
    },
  ];

  describe.each(artifactRows)("$route", (row) => {
    it.each(ROLES)("as %s answers as reading or recording results would", async (role) => {
      const fx = await createProjectObjects();
      const maintainerToken = await tokenFor("maintainer");
      const made = await fetch(
        `${server.url}/api/v1/executions/${fx.executionId}/artifacts?name=made.png`,
        { method: "POST", headers: { authorization: `Bearer ${maintainerToken}` }, body: "png" },
      );
      const { id } = (await made.json()) as { id: number };
      const token = await tokenFor(role);
      const [method, path, body] = row.request(fx, id);
      const response = await fetch(`${server.url}/api/v1${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
        body,
      });
      const expected = row.expect[role];
      const status = expected === "ok" ? row.okStatus : HTTP_STATUS[expected];
      expect(response.status, await response.text()).toBe(status);
    });
  });
});
