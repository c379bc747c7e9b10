import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestTrackClient } from "@testtrack/client";
import { insertExecution } from "@testtrack/core/testing";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixturesDir, testtrack } from "./fixtures";

const committedReports = { go: join(fixturesDir, "go-junit-report-2.1.0.xml") };

describe("testtrack project and token", () => {
  let server: TestServer;
  let env: Record<string, string>;
  let teammate: Awaited<ReturnType<typeof createTestPrincipal>>;

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    teammate = await createTestPrincipal(server.database);
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: token, CI: "" };
  });
  afterAll(async () => {
    await server?.close();
  });

  it("creates a project, adds a teammate, lists both, and imports with a project token", async () => {
    const created = await testtrack(["project", "create", "web-shop", "--name", "Web shop"], env);
    expect(created.stderr).toBe("");
    expect(created.stdout).toMatch(/^Created project web-shop \(id \d+\); you maintain it\n$/);

    const added = await testtrack(
      ["project", "add-member", "web-shop", teammate.email, "--role", "viewer"],
      env,
    );
    expect(added.stdout.trim()).toBe(`Added ${teammate.email} as viewer`);

    const list = await testtrack(["project", "list"], env);
    expect(list.code).toBe(0);
    const rows = list.stdout.trim().split("\n");
    expect(rows[0]).toMatch(/^ID\s+SLUG\s+ROLE\s+NAME$/);
    expect(rows.some((row) => /\bweb-shop\s+maintainer\s+Web shop$/.test(row))).toBe(true);
    expect(rows.some((row) => /\bpersonal-\d+\s+maintainer\s/.test(row))).toBe(true);

    const members = await testtrack(["project", "members", "web-shop", "--json"], env);
    const parsed = JSON.parse(members.stdout) as { email: string; role: string }[];
    expect(parsed.map((m) => m.role).sort()).toEqual(["maintainer", "viewer"]);
    expect(parsed.map((m) => m.email)).toContain(teammate.email);

    // A CI token that reaches web-shop only: the import lands there without naming it.
    const issued = await testtrack(
      ["token", "create", "--name", "ci", "--project", "web-shop", "--json"],
      env,
    );
    const token = JSON.parse(issued.stdout) as { token: string; role: string; projectId: number };
    expect(token.role).toBe("member");
    const imported = await testtrack(["import", committedReports.go], {
      ...env,
      TESTTRACK_TOKEN: token.token,
    });
    expect(imported.code, imported.stderr).toBe(0);
    const viewer = createTestTrackClient({ url: server.url, token: teammate.token });
    const shared = await viewer.execution.list.query({ projectId: token.projectId });
    expect(shared.total).toBeGreaterThan(0);
    // The token's user's personal project got nothing.
    const own = createTestTrackClient({ url: server.url, token: env.TESTTRACK_TOKEN ?? "" });
    expect((await own.execution.list.query({})).total).toBe(0);

    // The teammate is a viewer: their import into web-shop is refused, with the server's reason.
    const refused = await testtrack(["import", committedReports.go, "--project", "web-shop"], {
      ...env,
      TESTTRACK_TOKEN: teammate.token,
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/viewer/);
  });

  it("answers usage mistakes with exit code 2 and unknown projects with the server's NOT_FOUND", async () => {
    const usage = await testtrack(["project", "create", "x"], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/project create needs <slug> and --name/);
    const role = await testtrack(["token", "create", "--name", "x", "--role", "viewer"], env);
    expect(role.code).toBe(2);
    const missing = await testtrack(["project", "members", "no-such-project"], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe("testtrack: Project no-such-project was not found (NOT_FOUND)\n");
  });
});

describe("testtrack run", () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    // No CI variables from the machine running the tests.
    env = {
      TESTTRACK_URL: server.url,
      TESTTRACK_TOKEN: token,
      CI: "",
      GITHUB_ACTIONS: "",
      GITLAB_CI: "",
    };
  });
  afterAll(async () => {
    await server?.close();
  });

  it("summarises a crafted history in buckets, as JSON and as a job summary, and exits by --fail-on", async () => {
    const client = createTestTrackClient({ url: server.url, token: env.TESTTRACK_TOKEN ?? "" });
    const project = await client.project.create.mutate({ slug: "crafted", name: "Crafted" });
    const names = ["steady", "breaks", "fixed", "broken", "removed", "added", "slow"];
    const cases = await client.testCase.ensureMany.mutate({
      projectId: project.id,
      testCases: names.map((name) => ({ key: `shop › ${name}`, title: name })),
    });
    const id = (name: string) => cases[names.indexOf(name)]?.id ?? 0;
    const record = async (runId: number, name: string, result: "pass" | "fail", seconds = 1) => {
      const { executionId } = await client.execution.start.mutate({ testCaseId: id(name), runId });
      await client.execution.update.mutate({ id: executionId, status: "running" });
      await client.execution.update.mutate({
        id: executionId,
        status: result === "pass" ? "completed" : "failed",
        result,
        durationSeconds: seconds,
        errorMessage: result === "fail" ? `${name}: expected 2\n    at cart.ts:3` : undefined,
      });
    };
    const started = await testtrack(
      ["run", "start", "--run-key", "base-1", "--project", "crafted", "--json"],
      { ...env, TESTTRACK_BRANCH: "main" },
    );
    expect(started.code, started.stderr).toBe(0);
    const base = JSON.parse(started.stdout) as { id: number; branch: string };
    expect(base.branch).toBe("main");
    for (const name of ["steady", "breaks", "removed"]) await record(base.id, name, "pass");
    for (const name of ["fixed", "broken"]) await record(base.id, name, "fail");
    await record(base.id, "slow", "pass", 2);
    const finished = await testtrack(
      ["run", "finish", "--run-key", "base-1", "--project", "crafted"],
      env,
    );
    expect(finished.stdout.trim()).toBe(`Run base-1 (id ${base.id}): failed`);

    const run = await client.run.start.mutate({
      projectId: project.id,
      key: "pr-7",
      branch: "feature",
    });
    await record(run.id, "steady", "pass");
    await record(run.id, "breaks", "fail");
    await record(run.id, "fixed", "pass");
    await record(run.id, "broken", "fail");
    await record(run.id, "added", "pass");
    await record(run.id, "slow", "pass", 6);
    await client.run.finish.mutate({ runId: run.id });

    const dir = mkdtempSync(join(tmpdir(), "testtrack-summary-"));
    try {
      const stepSummary = join(dir, "summary.md");
      const summary = await testtrack(
        ["run", "summary", "--run-key", "pr-7", "--project", "crafted", "--format", "json"],
        { ...env, GITHUB_STEP_SUMMARY: stepSummary },
      );
      expect(summary.code, summary.stderr).toBe(0);
      const parsed = JSON.parse(summary.stdout) as {
        base: { id: number };
        buckets: Record<string, { title: string }[]>;
      };
      expect(parsed.base.id).toBe(base.id);
      const titles = Object.fromEntries(
        Object.entries(parsed.buckets).map(([bucket, items]) => [
          bucket,
          items.map((i) => i.title),
        ]),
      );
      expect(titles).toEqual({
        newFailures: ["breaks"],
        stillFailing: ["broken"],
        fixed: ["fixed"],
        flaky: [],
        added: ["added"],
        removed: ["removed"],
        slower: ["slow"],
        durationRegressions: [],
        quarantined: [],
      });
      const markdown = readFileSync(stepSummary, "utf8");
      expect(markdown).toContain("### New failures (1)");
      expect(markdown).toMatch(
        /- `breaks` — breaks: expected 2 \(\[details\]\(http:\/\/.+\/executions\/\d+\)\)/,
      );
      expect(markdown).toContain("- `slow`: 2 s → 6 s");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const exitFor = async (failOn: string) =>
      (
        await testtrack(
          ["run", "summary", "--run-key", "pr-7", "--project", "crafted", "--fail-on", failOn],
          env,
        )
      ).code;
    expect(await exitFor("new-failures")).toBe(1);
    expect(await exitFor("failures")).toBe(1);
    expect(await exitFor("never")).toBe(0);
    // The base run had failures but no base of its own: no new failures.
    const baseExit = await testtrack(
      [
        "run",
        "summary",
        "--run-key",
        "base-1",
        "--project",
        "crafted",
        "--fail-on",
        "new-failures",
      ],
      env,
    );
    expect(baseExit.code).toBe(0);
    expect(baseExit.stdout).toContain(
      "No earlier finished run of the default branch to compare with.",
    );
  });

  it("quarantines a failing test: the run passes and --fail-on failures exits 0 until the entry expires", async () => {
    const client = createTestTrackClient({ url: server.url, token: env.TESTTRACK_TOKEN ?? "" });
    const project = await client.project.create.mutate({ slug: "quarantine", name: "Quarantine" });
    const [shaky, solid] = await client.testCase.ensureMany.mutate({
      projectId: project.id,
      testCases: ["shaky", "solid"].map((name) => ({ key: `shop › ${name}`, title: name })),
    });
    const record = async (runId: number, testCaseId: number, result: "pass" | "fail") => {
      const { executionId } = await client.execution.start.mutate({ testCaseId, runId });
      await client.execution.update.mutate({ id: executionId, status: "running" });
      await client.execution.update.mutate({
        id: executionId,
        status: result === "pass" ? "completed" : "failed",
        result,
        errorMessage: result === "fail" ? "TimeoutError: 30000ms exceeded" : undefined,
      });
    };
    const expires = new Date(Date.now() + 4_000).toISOString();
    const added = await testtrack(
      ["quarantine", "add", String(shaky?.id), "--reason", "CDN timeouts", "--expires", expires],
      env,
    );
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim()).toBe(`Quarantined test ${shaky?.id} (shaky) until ${expires}`);
    const listed = await testtrack(["quarantine", "list", "--project", "quarantine"], env);
    expect(listed.stdout).toMatch(
      new RegExp(`^${shaky?.id}\\s+\\S+\\s+yes\\s+shaky\\s+CDN timeouts$`, "m"),
    );

    const buildWith = async (key: string) => {
      const run = await client.run.start.mutate({ projectId: project.id, key, branch: "main" });
      await record(run.id, shaky?.id ?? 0, "fail");
      await record(run.id, solid?.id ?? 0, "pass");
      await client.run.finish.mutate({ runId: run.id });
      const summary = await testtrack(
        ["run", "summary", "--run-key", key, "--project", "quarantine", "--fail-on", "failures"],
        env,
      );
      const newFailures = await testtrack(
        [
          "run",
          "summary",
          "--run-key",
          key,
          "--project",
          "quarantine",
          "--fail-on",
          "new-failures",
        ],
        env,
      );
      return { run: await client.run.get.query({ id: run.id }), summary, newFailures };
    };
    const quarantined = await buildWith("q-1");
    expect(quarantined.run).toMatchObject({ status: "passed", failed: 0, quarantined: 1 });
    expect(quarantined.summary.code).toBe(0);
    expect(quarantined.newFailures.code).toBe(0);
    expect(quarantined.summary.stdout).toContain("1 quarantined");
    expect(quarantined.summary.stdout).toContain("### Quarantined failures (1)");

    // After expiresAt, with no job run in between, the same failure fails the run and the step.
    await new Promise((resolve) => setTimeout(resolve, Date.parse(expires) - Date.now() + 100));
    const expired = await buildWith("q-2");
    expect(expired.run).toMatchObject({ status: "failed", failed: 1, quarantined: 0 });
    expect(expired.summary.code).toBe(1);
    // It failed in the base run too (quarantined then): still failing, not a new failure.
    expect(expired.newFailures.code).toBe(0);
    expect(expired.summary.stdout).toContain("### Still failing (1)");

    const removed = await testtrack(["quarantine", "remove", String(shaky?.id)], env);
    expect(removed.stdout.trim()).toBe(`Test ${shaky?.id} is out of quarantine`);
    const flaky = await testtrack(["health", "flaky", "--project", "quarantine", "--json"], env);
    expect(flaky.code, flaky.stderr).toBe(0);
    expect(JSON.parse(flaky.stdout)).toEqual([]);
    const usage = await testtrack(["quarantine", "add", "shaky", "--reason", "x"], env);
    expect(usage.code).toBe(2);
  });

  it("asks for a run key outside CI, and refuses a bad --shard or --fail-on", async () => {
    const none = await testtrack(["run", "summary"], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no CI build detected: name the run with --run-key/);
    expect((await testtrack(["run", "start", "--run-key", "k", "--shard", "5/4"], env)).code).toBe(
      2,
    );
    expect(
      (await testtrack(["run", "summary", "--run-key", "k", "--fail-on", "often"], env)).code,
    ).toBe(2);
  });
});

describe("testtrack retention", () => {
  let server: TestServer;
  let env: Record<string, string>;

  beforeAll(async () => {
    server = await startTestServer();
    const admin = await createTestPrincipal(server.database, "admin");
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: admin.token, CI: "" };
    const project = await admin.caller.project.create({ slug: "kept-a-week", name: "A week" });
    await admin.caller.project.update({ id: project.id, retentionDays: 7 });
    const testCase = await admin.caller.testCase.create({ projectId: project.id, title: "Old" });
    // Recorded ten days ago: past the project's week.
    await insertExecution(server.database, {
      testCaseId: testCase.id,
      userId: admin.id,
      status: "completed",
      totalSteps: 2,
      createdAt: new Date(Date.now() - 10 * 86_400_000),
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("prints with --dry-run what project retention would delete, and deletes nothing", async () => {
    const dryRun = await testtrack(["retention", "--dry-run"], env);
    expect(dryRun.stderr).toBe("");
    const [header, row, ...more] = dryRun.stdout.trim().split("\n");
    expect(header).toMatch(/^PROJECT\s+DAYS\s+BEFORE\s+EXECUTIONS\s+STEPS$/);
    expect(row).toMatch(/^kept-a-week\s+7\s+\S+Z\s+1\s+2$/);
    expect(more).toEqual([]);
    const again = await testtrack(["retention", "--dry-run", "--json"], env);
    expect(JSON.parse(again.stdout)).toEqual({
      instance: null,
      projects: [expect.objectContaining({ slug: "kept-a-week", executions: 1, steps: 2 })],
      artifacts: [],
    });
    const without = await testtrack(["retention"], env);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/--dry-run prints what it would delete now/);
  });
});
