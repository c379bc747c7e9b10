import { randomBytes } from "node:crypto";
import { errorCode, type RouterOutputs, recordExecution } from "@testtrack/client";
import {
  clientFor,
  requireAdmin,
  requireExecution,
  requireTestCase,
  signIn,
  startTrackedExecution,
  type VerifyContext,
} from "./context";
import { describeError, expectEqual, expectRefusal, expectTrue, issuePaths } from "./expect";

/** One scenario: it returns the text of its [OK] line, or throws to make it a [FAIL]. */
export interface Check {
  name: string;
  run(ctx: VerifyContext): Promise<string>;
}

export interface Tally {
  passed: number;
  failed: number;
}

export type Print = (line: string) => void;

type Execution = RouterOutputs["execution"]["get"];
type Statistics = RouterOutputs["stats"]["get"];

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"] as const;
const RESULTS = ["pass", "fail", "error", "skip"] as const;
/** Continuation lines line up under the text of the [OK] line, as in the seed's output. */
const INDENT = "     ";

const authentication: Check = {
  name: "authentication",
  async run(ctx) {
    const { credentials, url } = ctx.target;
    if ("token" in credentials) {
      const client = clientFor(url, credentials.token);
      ctx.admin = { client, user: await client.auth.me.query() };
    } else {
      ctx.admin = await signIn(ctx, credentials.email, credentials.password);
    }
    const { user } = ctx.admin;
    expectEqual(`role of ${user.email}`, user.role, "admin");
    const how = "token" in credentials ? "Authenticated with a token" : "Logged in";
    return `${how} as ${user.email} (admin, user ID: ${user.id})`;
  },
};

const testCaseSetup: Check = {
  name: "test case setup",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const title = `TestTrack verify ${ctx.runTag}: sign in`;
    const created = await client.testCase.create.mutate({
      title,
      description: "Created by pnpm verify; removed when it finishes.",
      steps: [
        { description: "Open the login page", expectedResult: "The form is shown" },
        { description: "Sign in", expectedResult: "The dashboard opens" },
      ],
      tags: ["verify"],
    });
    ctx.created.testCaseIds.push(created.id);
    const stored = await client.testCase.get.query({ id: created.id });
    expectEqual("stored title", stored.title, title);
    expectEqual("stored steps", stored.steps.length, 2);
    ctx.testCase = { id: created.id, title };
    return `Created test case ${created.id} "${title}" with ${stored.steps.length} steps`;
  },
};

const startExecution: Check = {
  name: "start execution",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const started = await startTrackedExecution(ctx, {
      browser: "Chromium",
      environment: "dev",
      baseUrl: "https://app.example.com",
      triggeredBy: "manual",
    });
    expectEqual("status of the new execution", started.status, "pending");
    expectEqual("its testCaseId", started.testCaseId, requireTestCase(ctx).id);
    ctx.execution = { id: started.executionId };
    const stored = await client.execution.get.query({ id: started.executionId });
    expectEqual("stored browser (labels are lower-cased)", stored.browser, "chromium");
    expectEqual("stored environment", stored.environment, "dev");
    return `Execution started with ID: ${started.executionId} (status ${started.status}, browser ${stored.browser}, environment ${stored.environment})`;
  },
};

const executionHistory: Check = {
  name: "execution history",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const testCase = requireTestCase(ctx);
    const execution = requireExecution(ctx);
    const history = await client.execution.history.query({ testCaseId: testCase.id });
    expectEqual("history total", history.total, 1);
    expectEqual("history item IDs", ids(history.items), [execution.id]);
    expectEqual("testCaseTitle", history.items[0]?.testCaseTitle, testCase.title);
    return `Retrieved ${history.total} execution(s) for test case ${testCase.id}`;
  },
};

const executionDetails: Check = {
  name: "execution details",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const execution = requireExecution(ctx);
    await client.step.record.mutate({
      executionId: execution.id,
      steps: [
        { stepNumber: 1, stepDescription: "Open the login page", result: "pass" },
        { stepNumber: 2, stepDescription: "Sign in", result: "pass", durationSeconds: 1.5 },
        { stepNumber: 3, stepDescription: "Check the banner", result: "skip" },
      ],
    });
    const details = await client.execution.get.query({ id: execution.id });
    expectEqual("step numbers in order", stepNumbers(details), [1, 2, 3]);
    expectEqual("summary (total, passed, failed, skipped)", summaryOf(details), [3, 2, 0, 1]);
    expectEqual("result", details.result, "pass");
    expectEqual("status after the first step", details.status, "running");
    return `Retrieved execution details for ID: ${details.id} (status ${details.status}, result ${details.result}, ${describeSummary(details)})`;
  },
};

const listWithFilters: Check = {
  name: "list with filters",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const testCase = requireTestCase(ctx);
    const execution = await client.execution.get.query({ id: requireExecution(ctx).id });
    const all = await client.execution.list.query({ testCaseId: testCase.id });
    expectEqual("total for the test case", all.total, 1);
    expectEqual("listed IDs", ids(all.items), [execution.id]);
    const matching = matchingFilters(execution);
    for (const [field, value] of Object.entries(matching)) {
      const page = await client.execution.list.query({ testCaseId: testCase.id, [field]: value });
      expectEqual(`IDs listed for ${field}=${value}`, ids(page.items), [execution.id]);
    }
    for (const [field, value] of Object.entries(otherFilters(execution))) {
      const page = await client.execution.list.query({ testCaseId: testCase.id, [field]: value });
      expectEqual(`total listed for ${field}=${value}`, page.total, 0);
    }
    const shown = Object.entries(matching).map(([field, value]) => `${field}=${value}`);
    return `Total executions: ${all.total} (testCaseId=${testCase.id} with ${shown.join(", ")} each found it; other values found none)`;
  },
};

type ListFilters = Partial<Pick<Execution, "status" | "browser" | "environment">> & {
  result?: NonNullable<Execution["result"]>;
};

function matchingFilters(execution: Execution): ListFilters {
  return {
    status: execution.status,
    ...(execution.result ? { result: execution.result } : {}),
    ...(execution.browser ? { browser: execution.browser } : {}),
    ...(execution.environment ? { environment: execution.environment } : {}),
  };
}

function otherFilters(execution: Execution): ListFilters {
  return {
    status: execution.status === "cancelled" ? "completed" : "cancelled",
    result: execution.result === "error" ? "fail" : "error",
    browser: `no-such-browser-${execution.id}`,
    environment: `no-such-environment-${execution.id}`,
  };
}

const statistics: Check = {
  name: "statistics",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const testCase = requireTestCase(ctx);
    const stats = await client.stats.get.query({ testCaseId: testCase.id });
    const listed = await client.execution.list.query({ testCaseId: testCase.id, limit: 100 });
    const expected = tallyExecutions(listed.items);
    expectEqual("totalExecutions", stats.totalExecutions, listed.total);
    expectEqual("byStatus", ordered(stats.byStatus, STATUSES), expected.byStatus);
    expectEqual("byResult", ordered(stats.byResult, RESULTS), expected.byResult);
    expectEqual("byBrowser", sortedKeys(stats.byBrowser), sortedKeys(expected.byBrowser));
    expectEqual(
      "byEnvironment",
      sortedKeys(stats.byEnvironment),
      sortedKeys(expected.byEnvironment),
    );
    expectEqual("passRate", stats.passRate, expected.passRate);
    const mostExecuted = stats.mostExecutedTests.map((t) => [t.testCaseId, t.title, t.count]);
    expectEqual("mostExecutedTests", mostExecuted, [[testCase.id, testCase.title, listed.total]]);
    const recent = [stats.executionsLast24h, stats.executionsLast7d, stats.executionsLast30d];
    const all = listed.total;
    expectEqual("executions in the last 24h, 7d, 30d (all made just now)", recent, [all, all, all]);
    return describeStatistics(stats);
  },
};

/** The figures stats.get must report, counted from the listed executions themselves. */
function tallyExecutions(
  items: Pick<Execution, "status" | "result" | "browser" | "environment">[],
) {
  const byStatus = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Statistics["byStatus"];
  const byResult = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Statistics["byResult"];
  const byBrowser: Record<string, number> = {};
  const byEnvironment: Record<string, number> = {};
  for (const item of items) {
    byStatus[item.status] += 1;
    if (item.result) byResult[item.result] += 1;
    const browser = item.browser ?? "unspecified";
    const environment = item.environment ?? "unspecified";
    byBrowser[browser] = (byBrowser[browser] ?? 0) + 1;
    byEnvironment[environment] = (byEnvironment[environment] ?? 0) + 1;
  }
  const decided = byResult.pass + byResult.fail + byResult.error;
  const passRate = decided === 0 ? 0 : Math.round((byResult.pass / decided) * 10_000) / 100;
  return {
    byStatus: ordered(byStatus, STATUSES),
    byResult: ordered(byResult, RESULTS),
    byBrowser,
    byEnvironment,
    passRate,
  };
}

function describeStatistics(stats: Statistics): string {
  const counts = (values: Record<string, number>, keys: readonly string[] = Object.keys(values)) =>
    keys.map((key) => `${key}: ${values[key] ?? 0}`).join(", ") || "none";
  return [
    `Total Executions: ${stats.totalExecutions}`,
    `By Status: ${counts(stats.byStatus, STATUSES)}`,
    `By Result: ${counts(stats.byResult, RESULTS)}`,
    `By Browser: ${counts(stats.byBrowser)}`,
    `By Environment: ${counts(stats.byEnvironment)}`,
    `Pass Rate: ${stats.passRate.toFixed(1)}%`,
    `Executions Last 24h: ${stats.executionsLast24h}, Last 7d: ${stats.executionsLast7d}, Last 30d: ${stats.executionsLast30d}`,
  ].join(`\n${INDENT}`);
}

const deleteExecution: Check = {
  name: "delete execution",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const execution = requireExecution(ctx);
    const deleted = await client.execution.delete.mutate({ id: execution.id });
    expectEqual("deleted ID", deleted.id, execution.id);
    return `Execution ${deleted.id} deleted successfully`;
  },
};

const deletionVerified: Check = {
  name: "deletion verified",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const execution = requireExecution(ctx);
    const testCase = requireTestCase(ctx);
    await expectRefusal(
      `execution.get of deleted execution ${execution.id}`,
      client.execution.get.query({ id: execution.id }),
      "NOT_FOUND",
    );
    await expectRefusal(
      `step.list of deleted execution ${execution.id}`,
      client.step.list.query({ executionId: execution.id }),
      "NOT_FOUND",
    );
    const history = await client.execution.history.query({ testCaseId: testCase.id });
    expectEqual("history total after the delete", history.total, 0);
    return "Deletion verified - execution not found (get and step.list answer NOT_FOUND, history is empty)";
  },
};

const memberIsolation: Check = {
  name: "member isolation",
  async run(ctx) {
    const admin = requireAdmin(ctx);
    const { executionId } = await startTrackedExecution(ctx, { browser: "webkit" });
    const member = await createMember(ctx);
    const testCase = requireTestCase(ctx);
    await expectRefusal(
      `member's execution.get of the admin's execution ${executionId}`,
      member.client.execution.get.query({ id: executionId }),
      "NOT_FOUND",
    );
    await expectRefusal(
      `member's execution.delete of the admin's execution ${executionId}`,
      member.client.execution.delete.mutate({ id: executionId }),
      "NOT_FOUND",
    );
    const listed = await member.client.execution.list.query({ testCaseId: testCase.id });
    expectEqual("executions of the admin's test case the member lists", listed.total, 0);
    const stats = await member.client.stats.get.query({ testCaseId: testCase.id });
    expectEqual("the member's statistics for the admin's test case", stats.totalExecutions, 0);
    const stillThere = await admin.client.execution.get.query({ id: executionId });
    expectEqual("the admin's execution after the member's delete", stillThere.id, executionId);
    return `Member ${member.user.email} cannot see or delete the admin's execution ${executionId} (get and delete answer NOT_FOUND, list and stats show 0); it still exists`;
  },
};

async function createMember(ctx: VerifyContext, label = "member") {
  const { client } = requireAdmin(ctx);
  const password = randomBytes(18).toString("base64url");
  const member = await client.user.create.mutate({
    email: `verify-${label}-${ctx.runTag}@example.com`,
    name: `Verify ${label} ${ctx.runTag}`,
    password,
    role: "member",
  });
  ctx.created.userIds.push(member.id);
  expectEqual("role of the created user", member.role, "member");
  return signIn(ctx, member.email, password);
}

const sharedProject: Check = {
  name: "shared project",
  async run(ctx) {
    const [owner, teammate, viewer, outsider] = [
      await createMember(ctx, "owner"),
      await createMember(ctx, "teammate"),
      await createMember(ctx, "viewer"),
      await createMember(ctx, "outsider"),
    ];
    const project = await owner.client.project.create.mutate({
      slug: `verify-${ctx.runTag}`,
      name: `Verify ${ctx.runTag}`,
    });
    ctx.created.projectIds.push(project.id);
    expectEqual("the creator's role in the new project", project.role, "maintainer");
    const add = (user: { email: string }, role: "member" | "viewer") =>
      owner.client.project.addMember.mutate({ projectId: project.id, email: user.email, role });
    await add(teammate.user, "member");
    await add(viewer.user, "viewer");

    const testCase = await owner.client.testCase.create.mutate({
      projectId: project.id,
      title: `Shared checkout ${ctx.runTag}`,
    });
    ctx.created.testCaseIds.push(testCase.id);
    const { executionId } = await owner.client.execution.start.mutate({
      testCaseId: testCase.id,
      browser: "chromium",
    });
    ctx.created.executionIds.push(executionId);
    await owner.client.step.record.mutate({
      executionId,
      steps: [{ stepNumber: 1, stepDescription: "Open the shop", result: "pass" }],
    });

    // The teammate sees the owner's execution and records into it.
    const listed = await teammate.client.execution.list.query({ projectId: project.id });
    expectEqual("executions of the shared project the teammate lists", ids(listed.items), [
      executionId,
    ]);
    await teammate.client.step.record.mutate({
      executionId,
      steps: [{ stepNumber: 2, stepDescription: "Pay", result: "pass" }],
    });
    // The viewer reads it, but cannot write: FORBIDDEN, and nothing changes.
    const seen = await viewer.client.execution.get.query({ id: executionId });
    expectEqual("steps the viewer sees", stepNumbers(seen), [1, 2]);
    await expectRefusal(
      "the viewer's step.record",
      viewer.client.step.record.mutate({
        executionId,
        steps: [{ stepNumber: 3, stepDescription: "Refund", result: "fail" }],
      }),
      "FORBIDDEN",
    );
    await expectRefusal(
      "the viewer's execution.update",
      viewer.client.execution.update.mutate({ id: executionId, status: "completed" }),
      "FORBIDDEN",
    );
    // Someone outside the project finds nothing, as if nothing were there.
    await expectRefusal(
      "the outsider's execution.get",
      outsider.client.execution.get.query({ id: executionId }),
      "NOT_FOUND",
    );
    await expectRefusal(
      "the outsider's execution.list of the project",
      outsider.client.execution.list.query({ projectId: project.id }),
      "NOT_FOUND",
    );
    const after = await owner.client.execution.get.query({ id: executionId });
    expectEqual("the shared execution's steps after the refusals", summaryOf(after), [2, 2, 0, 0]);
    return `Project ${project.slug} shared by ${owner.user.email} (maintainer), a member and a viewer: the member sees and records into execution ${executionId}, the viewer reads it but gets FORBIDDEN for writes, an outsider gets NOT_FOUND`;
  },
};

const runs: Check = {
  name: "runs",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    // A project of its own, so cleanup removes its runs with it.
    const project = await client.project.create.mutate({
      slug: `verify-runs-${ctx.runTag}`,
      name: `Verify runs ${ctx.runTag}`,
    });
    ctx.created.projectIds.push(project.id);
    const projectId = project.id;
    const [login, checkout] = await client.testCase.ensureMany.mutate({
      projectId,
      testCases: [
        { key: "verify › login", title: "login" },
        { key: "verify › checkout", title: "checkout" },
      ],
    });
    if (!login || !checkout) throw new Error("testCase.ensureMany answered too few test cases");
    const record = async (
      runId: number,
      testCaseId: number,
      result: "pass" | "fail",
      attempt = 0,
    ) => {
      const run = await recordExecution(client, { testCaseId, runId, attempt });
      await run.finish({
        result,
        errorMessage: result === "fail" ? "expected 2, got 3" : undefined,
      });
    };
    // The base: the last finished run of the default branch, everything passing.
    const base = await client.run.start.mutate({
      projectId,
      key: `verify-base-${ctx.runTag}`,
      branch: "main",
    });
    await record(base.id, login.id, "pass");
    await record(base.id, checkout.id, "pass");
    expectEqual(
      "the base run's status",
      (await client.run.finish.mutate({ runId: base.id })).status,
      "passed",
    );
    // This build: two shards of one key; login fails once and passes on its retry.
    const key = `verify-build-${ctx.runTag}`;
    const [first, second] = await Promise.all(
      [1, 2].map((shard) =>
        client.run.start.mutate({ projectId, key, branch: "main", expectedShards: 2, shard }),
      ),
    );
    expectEqual("the run both shards joined", second?.id, first?.id);
    const runId = first?.id ?? 0;
    await record(runId, login.id, "fail", 0);
    await record(runId, login.id, "pass", 1);
    await record(runId, checkout.id, "fail");
    const afterOne = await client.run.finishShard.mutate({ runId, shard: 1 });
    expectEqual("the run's status with one of two shards finished", afterOne.status, "running");
    const finished = await client.run.finishShard.mutate({ runId, shard: 2 });
    expectEqual("the run's status when both shards finished", finished.status, "failed");
    expectEqual(
      "the run's counts (tests, passed, failed, flaky)",
      [finished.tests, finished.passed, finished.failed, finished.flaky],
      [2, 0, 1, 1],
    );
    const comparison = await client.run.compare.query({ runId });
    expectEqual("the base the run is compared with", comparison.base?.id, base.id);
    expectEqual(
      "new failures against the base",
      comparison.buckets.newFailures.map((t) => t.title),
      ["checkout"],
    );
    expectEqual(
      "flaky tests",
      comparison.buckets.flaky.map((t) => t.title),
      ["login"],
    );
    return `Run ${key} of 2 shards with a retry: failed with 1 flaky (login) and 1 new failure (checkout) against base run ${base.id}`;
  },
};

const healthAndQuarantine: Check = {
  name: "health and quarantine",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    // The project of the "runs" check: login passed on a retry there, checkout failed.
    const project = await client.project.get.query({ slug: `verify-runs-${ctx.runTag}` });
    const flaky = await client.health.flaky.query({ projectId: project.id });
    expectEqual(
      "flaky tests of the project and their flaky runs",
      flaky.items.map((t) => [t.title, t.flakyRuns]),
      [["login", 1]],
    );
    const [checkout] = await client.testCase.ensureMany.mutate({
      projectId: project.id,
      testCases: [{ key: "verify › checkout", title: "checkout" }],
    });
    if (!checkout) throw new Error("testCase.ensureMany answered no test case");
    await client.quarantine.add.mutate({
      testCaseId: checkout.id,
      reason: "verify: known checkout bug",
    });
    const run = await client.run.start.mutate({
      projectId: project.id,
      key: `verify-quarantined-${ctx.runTag}`,
      branch: "main",
    });
    const recording = await recordExecution(client, { testCaseId: checkout.id, runId: run.id });
    await recording.finish({ result: "fail", errorMessage: "expected 2, got 3" });
    const finished = await client.run.finish.mutate({ runId: run.id });
    expectEqual(
      "a run whose only failure is quarantined (status, failed, quarantined)",
      [finished.status, finished.failed, finished.quarantined],
      ["passed", 0, 1],
    );
    const removed = await client.quarantine.remove.mutate({ testCaseId: checkout.id });
    expectEqual("the quarantine entry removed", removed.removed, true);
    return `health.flaky names login (1 flaky run); with checkout quarantined its failure leaves run ${run.id} passed (1 quarantined)`;
  },
};

const recorderSummary: Check = {
  name: "recorder summary",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const testCase = requireTestCase(ctx);
    const run = await recordExecution(client, {
      testCaseId: testCase.id,
      browser: "firefox",
      environment: "staging",
      triggeredBy: "ci_cd",
      retry: { retries: 2 },
    });
    ctx.created.executionIds.push(run.executionId);
    run.step({ stepDescription: "Open the login page", result: "pass" });
    run.step({ stepDescription: "Sign in", result: "pass", durationSeconds: 0.4 });
    run.step({ stepDescription: "Open the dashboard", result: "fail", errorMessage: "Timeout" });
    run.step({ stepDescription: "Sign out", result: "skip" });
    await run.finish();
    const stored = await client.execution.get.query({ id: run.executionId });
    expectEqual("step numbers in order", stepNumbers(stored), [1, 2, 3, 4]);
    expectEqual("summary (total, passed, failed, skipped)", summaryOf(stored), [4, 2, 1, 1]);
    expectEqual("result", stored.result, "fail");
    expectEqual("status", stored.status, "completed");
    expectTrue("durationSeconds is set", stored.durationSeconds !== null);
    return `Recorder stored execution ${stored.id}: ${describeSummary(stored)}; result ${stored.result}, status ${stored.status}`;
  },
};

const invalidLifecycleMove: Check = {
  name: "invalid lifecycle move",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const { executionId: id } = await startTrackedExecution(ctx, { browser: "chromium" });
    await client.execution.update.mutate({ id, status: "running" });
    await client.execution.update.mutate({ id, status: "completed", result: "pass" });
    const refusal = await expectRefusal(
      `execution.update of completed execution ${id} to running`,
      client.execution.update.mutate({ id, status: "running" }),
      "CONFLICT",
    );
    const after = await client.execution.get.query({ id });
    expectEqual("status after the refused move", after.status, "completed");
    return `Moving completed execution ${id} to running refused with CONFLICT ("${refusal.message}"); it stays ${after.status}`;
  },
};

const invalidInput: Check = {
  name: "invalid input",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const testCase = requireTestCase(ctx);
    const count = async () =>
      (await client.execution.list.query({ testCaseId: testCase.id, limit: 1 })).total;
    const before = await count();
    const unknownTrigger = await expectRefusal(
      'execution.start with triggeredBy "telepathy"',
      // @ts-expect-error: an enum value the server does not know, on purpose
      client.execution.start.mutate({ testCaseId: testCase.id, triggeredBy: "telepathy" }),
      "BAD_REQUEST",
    );
    expectNamesField(unknownTrigger, "triggeredBy");
    const missingTestCase = await expectRefusal(
      "execution.start without testCaseId",
      // @ts-expect-error: the required testCaseId is left out on purpose
      client.execution.start.mutate({ browser: "chromium" }),
      "BAD_REQUEST",
    );
    expectNamesField(missingTestCase, "testCaseId");
    const after = await count();
    expectEqual("executions of the test case after the refused starts", after, before);
    return `Unknown triggeredBy and missing testCaseId refused with BAD_REQUEST naming the field; executions of test case ${testCase.id}: ${before} before, ${after} after`;
  },
};

function expectNamesField(error: Parameters<typeof issuePaths>[0], field: string) {
  const named = issuePaths(error);
  expectTrue(
    `the BAD_REQUEST should name ${field} in data.issues, but named ${JSON.stringify(named)}`,
    named.includes(field),
  );
}

const apiToken: Check = {
  name: "api token",
  async run(ctx) {
    const admin = requireAdmin(ctx);
    const created = await admin.client.auth.createApiToken.mutate({
      name: `verify ${ctx.runTag}`,
    });
    ctx.created.apiTokenIds.push(created.id);
    const tokenClient = clientFor(ctx.target.url, created.token);
    const me = await tokenClient.auth.me.query();
    expectEqual("user of the API token", me.id, admin.user.id);
    await tokenClient.execution.list.query({ limit: 1 });
    const revoked = await admin.client.auth.revokeApiToken.mutate({ id: created.id });
    expectTrue("revokeApiToken sets revokedAt", revoked.revokedAt !== null);
    await expectRefusal(
      "auth.me with the revoked token",
      tokenClient.auth.me.query(),
      "UNAUTHORIZED",
    );
    await expectRefusal(
      "execution.list with the revoked token",
      tokenClient.execution.list.query({ limit: 1 }),
      "UNAUTHORIZED",
    );
    return `API token ${created.prefix}… (ID: ${created.id}) works as ${me.email}; once revoked it gets UNAUTHORIZED`;
  },
};

const cleanup: Check = {
  name: "cleanup",
  async run(ctx) {
    const { client } = requireAdmin(ctx);
    const { created } = ctx;
    const problems = await removeCreated(ctx);
    for (const id of created.testCaseIds) {
      await expectRefusal(
        `testCase.get of removed test case ${id}`,
        client.testCase.get.query({ id }),
        "NOT_FOUND",
      );
    }
    for (const id of created.executionIds) {
      await expectRefusal(
        `execution.get of removed execution ${id}`,
        client.execution.get.query({ id }),
        "NOT_FOUND",
      );
    }
    for (const id of created.projectIds) {
      await expectRefusal(
        `project.get of removed project ${id}`,
        client.project.get.query({ id }),
        "NOT_FOUND",
      );
    }
    const users = created.userIds.length > 0 ? await client.user.list.query() : [];
    const usersLeft = users.filter((user) => created.userIds.includes(user.id));
    expectEqual("IDs of created users still listed", ids(usersLeft), []);
    const tokens = await client.auth.listApiTokens.query();
    const tokensLeft = tokens.filter((t) => created.apiTokenIds.includes(t.id) && !t.revokedAt);
    expectEqual("IDs of created API tokens not revoked", ids(tokensLeft), []);
    expectEqual("problems while removing", problems, []);
    return `Removed ${plural(created.testCaseIds.length, "test case")}, ${plural(created.executionIds.length, "execution")}, ${plural(created.projectIds.length, "project")}, ${plural(created.userIds.length, "member user")}; revoked ${plural(created.apiTokenIds.length, "API token")}`;
  },
};

/**
 * Removes everything verify created, trying every step even when one fails, and returns the
 * failures. The admin's own session stays open for the checks that follow.
 */
async function removeCreated(ctx: VerifyContext): Promise<string[]> {
  const { client } = requireAdmin(ctx);
  const { created } = ctx;
  const problems: string[] = [];
  const attempt = async (what: string, step: () => Promise<unknown>) => {
    try {
      await step();
    } catch (error) {
      if (errorCode(error) !== "NOT_FOUND") problems.push(`${what}: ${describeError(error)}`);
    }
  };
  for (const id of created.apiTokenIds) {
    await attempt(`revoke API token ${id}`, () => client.auth.revokeApiToken.mutate({ id }));
  }
  for (const id of created.executionIds) {
    await attempt(`delete execution ${id}`, () => client.execution.delete.mutate({ id }));
  }
  for (const id of created.testCaseIds) {
    await attempt(`delete test case ${id}`, () => client.testCase.delete.mutate({ id }));
  }
  for (const id of created.projectIds) {
    await attempt(`delete project ${id}`, () => client.project.delete.mutate({ id }));
  }
  for (const session of created.sessions.filter((s) => s !== client)) {
    await attempt("sign out the member", () => session.auth.logout.mutate());
  }
  for (const id of created.userIds) {
    await attempt(`delete user ${id}`, () => client.user.delete.mutate({ id }));
  }
  return problems;
}

const signOut: Check = {
  name: "sign out",
  async run(ctx) {
    const admin = requireAdmin(ctx);
    if (!ctx.created.sessions.includes(admin.client)) {
      return "Kept the given token (verify signs out only sessions it opened)";
    }
    await admin.client.auth.logout.mutate();
    await expectRefusal("auth.me after auth.logout", admin.client.auth.me.query(), "UNAUTHORIZED");
    return `Signed out ${admin.user.email}; the session token then gets UNAUTHORIZED`;
  },
};

/** The seed's 8 scenarios, then access control, the recorder, refusals, API tokens, cleanup. */
export const checks: Check[] = [
  authentication,
  testCaseSetup,
  startExecution,
  executionHistory,
  executionDetails,
  listWithFilters,
  statistics,
  deleteExecution,
  deletionVerified,
  memberIsolation,
  sharedProject,
  runs,
  healthAndQuarantine,
  recorderSummary,
  invalidLifecycleMove,
  invalidInput,
  apiToken,
  cleanup,
  signOut,
];

/** Runs every check in order, printing one [OK] or [FAIL] line each; a failure never stops the rest. */
export async function runChecks(
  ctx: VerifyContext,
  print: Print,
  list: Check[] = checks,
): Promise<Tally> {
  const tally: Tally = { passed: 0, failed: 0 };
  for (const check of list) {
    try {
      print(`[OK] ${await check.run(ctx)}`);
      tally.passed += 1;
    } catch (error) {
      print(`[FAIL] ${check.name}: ${describeError(error)}`);
      tally.failed += 1;
    }
  }
  return tally;
}

function ids(items: { id: number }[]): number[] {
  return items.map((item) => item.id);
}

function stepNumbers(execution: Execution): number[] {
  return execution.steps.map((step) => step.stepNumber);
}

function summaryOf(execution: Execution): number[] {
  const { totalSteps, passedSteps, failedSteps, skippedSteps } = execution;
  return [totalSteps, passedSteps, failedSteps, skippedSteps];
}

function describeSummary(execution: Execution): string {
  return `${execution.totalSteps} steps: ${execution.passedSteps} passed, ${execution.failedSteps} failed, ${execution.skippedSteps} skipped`;
}

function sortedKeys(values: Record<string, number>): [string, number][] {
  return Object.entries(values).sort(([a], [b]) => a.localeCompare(b));
}

/** The counts in the given key order, so two records compare by their JSON. */
function ordered(
  values: Record<string, number>,
  keys: readonly string[],
): Record<string, number | undefined> {
  return Object.fromEntries(keys.map((key) => [key, values[key]]));
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}
