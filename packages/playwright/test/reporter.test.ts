import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import type { JSONReport, JSONReportSuite, JSONReportTest } from "@playwright/test/reporter";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chromium,
  createPlaywrightProject,
  type ProcessResult,
  playwrightConfig,
  runPlaywright,
  startPage,
} from "./fixtures";

const shopSpec = `import { expect, test } from "@playwright/test";

test.describe("shop", () => {
  test("shows the heading", async ({ page }) => {
    await test.step("open the home page", async () => {
      await page.goto("/");
    });
    await test.step("read the heading", async () => {
      await expect(page.locator("h1")).toHaveText("Hello TestTrack");
    });
    console.log("heading checked");
  });

  test("buys with a missing button", async ({ page }) => {
    await test.step("open the home page", async () => {
      await page.goto("/");
    });
    await test.step("click the missing button", async () => {
      await page.locator("#missing").click({ timeout: 300 });
    });
  });

  test("passes on retry", async ({ page }, testInfo) => {
    await test.step("open the home page", async () => {
      await page.goto("/");
    });
    await test.step("buy", async () => {
      await page.locator("#buy").click();
      expect(testInfo.retry, "fails on the first attempt").toBeGreaterThan(0);
    });
  });

  test("waits too long", async () => {
    test.setTimeout(1_500);
    await test.step("wait for a reply that never comes", () => new Promise(() => {}));
  });

  test.skip("pays with a gift card", async () => {});
});
`;

/** Every test of a Playwright JSON report with its title path below the file. */
function reportedTests(report: JSONReport): Array<{ title: string; test: JSONReportTest }> {
  const found: Array<{ title: string; test: JSONReportTest }> = [];
  const visit = (suite: JSONReportSuite, path: string[]) => {
    const here = [...path, suite.title];
    for (const spec of suite.specs) {
      for (const test of spec.tests) found.push({ title: [...here, spec.title].join(" › "), test });
    }
    for (const child of suite.suites ?? []) visit(child, here);
  };
  for (const suite of report.suites) visit(suite, []);
  return found;
}

const expectedResult = { passed: "pass", failed: "fail", timedOut: "fail", skipped: "skip" };

describe("a Playwright run reporting to TestTrack", () => {
  let server: TestServer;
  let page: Awaited<ReturnType<typeof startPage>>;
  let client: TestTrackClient;
  let dir: string;
  let run: ProcessResult;
  let report: JSONReport;

  beforeAll(async () => {
    [server, page] = await Promise.all([startTestServer(), startPage()]);
    const { token } = await createTestPrincipal(server.database);
    client = createTestTrackClient({ url: server.url, token });
    dir = createPlaywrightProject({
      "playwright.config.mjs": playwrightConfig({
        browser: await chromium,
        pageUrl: page.url,
        retries: 1,
        reporterOptions: { url: server.url, environment: "Staging" },
      }),
      "shop.spec.mjs": shopSpec,
    });
    run = await runPlaywright(dir, { TESTTRACK_TOKEN: token, CI: "1" });
    report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as JSONReport;
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await Promise.all([server?.close(), page?.close()]);
  });

  it("runs the project in Chromium with the outcomes the spec intends", () => {
    expect(run.stderr).not.toContain("TestTrack reporter:");
    expect(report.errors).toEqual([]);
    const outcomes = Object.fromEntries(
      reportedTests(report).map(({ title, test }) => [title, test.results.map((r) => r.status)]),
    );
    expect(outcomes).toEqual({
      "shop.spec.mjs › shop › shows the heading": ["passed"],
      "shop.spec.mjs › shop › buys with a missing button": ["failed", "failed"],
      "shop.spec.mjs › shop › passes on retry": ["failed", "passed"],
      "shop.spec.mjs › shop › waits too long": ["timedOut", "timedOut"],
      "shop.spec.mjs › shop › pays with a gift card": ["skipped"],
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(
      /TestTrack: recorded 8 executions \(2 passed, 5 failed, 1 skipped\)/,
    );
  });

  it("stores one test case per test, titled by its path and tagged with file and project", async () => {
    const { items, total } = await client.testCase.list.query({ limit: 100 });
    expect(total).toBe(5);
    expect(items.map((testCase) => testCase.title).sort()).toEqual(
      reportedTests(report)
        .map(({ title }) => title)
        .sort(),
    );
    for (const testCase of items) expect(testCase.tags).toEqual(["shop.spec.mjs", "desktop"]);
  });

  it("stores every attempt as an execution matching what Playwright reported", async () => {
    const { items, total } = await client.execution.list.query({ limit: 100 });
    const attempts = reportedTests(report).flatMap(({ title, test }) =>
      test.results.map((result) => ({ title, test, result })),
    );
    expect(total).toBe(attempts.length);
    expect(total).toBe(8);
    let screenshots = 0;
    for (const { title, result } of attempts) {
      const matching = items.filter(
        (e) =>
          e.testCaseTitle === title &&
          e.triggerDetails?.startsWith(`Playwright attempt ${result.retry + 1} of 2,`),
      );
      expect(matching, `${title} attempt ${result.retry + 1}`).toHaveLength(1);
      const [summary] = matching;
      if (!summary || result.status === undefined || result.status === "interrupted") {
        throw new Error(`unexpected status ${result.status}`);
      }
      const execution = await client.execution.get.query({ id: summary.id });
      expect(execution).toMatchObject({
        status: "completed",
        result: expectedResult[result.status],
        browser: "chromium",
        environment: "staging",
        triggeredBy: "ci_cd",
        startedAt: new Date(result.startTime).toISOString(),
      });
      expect(execution.triggerDetails).toContain("project desktop");
      expect(execution.durationSeconds).toBeCloseTo(result.duration / 1000, 3);

      const steps = result.steps ?? [];
      // Playwright never ends the step a timeout cuts short; the reporter fails it.
      const stepResult = (error: unknown, index: number) =>
        error || (result.status === "timedOut" && index === steps.length - 1) ? "fail" : "pass";
      expect(execution.steps.map((s) => [s.stepDescription, s.result, s.retryCount])).toEqual(
        steps.map((s, index) => [s.title, stepResult(s.error, index), result.retry]),
      );
      execution.steps.forEach((stored, index) => {
        expect(stored.stepNumber).toBe(index + 1);
        const duration = steps[index]?.duration ?? 0;
        // -1: a step Playwright never ended; the reporter measures it up to the test's end.
        if (duration >= 0) expect(stored.durationSeconds).toBeCloseTo(duration / 1000, 3);
        else expect(stored.durationSeconds).toBeGreaterThan(1);
        expect(stored.startedAt).not.toBeNull();
      });
      expect(execution.totalSteps).toBe(steps.length);

      const screenshot = result.attachments.findLast((a) => a.contentType === "image/png");
      expect(execution.screenshotPath).toBe(screenshot?.path ?? null);
      if (execution.screenshotPath) {
        expect(existsSync(execution.screenshotPath)).toBe(true);
        expect(execution.consoleLog).toContain(`screenshot (image/png): ${screenshot?.path}`);
        screenshots++;
      }
      if (result.status === "passed" || result.status === "skipped") {
        expect(execution.errorMessage).toBeNull();
      } else {
        expect(execution.errorMessage).toBeTruthy();
      }
      if (result.status === "timedOut") {
        expect(execution.errorMessage).toMatch(/^Timeout: the test exceeded its 1500 ms timeout/);
        expect(execution.steps.at(-1)?.errorMessage).toBe(
          "The test ended (timedOut) before this step finished.",
        );
      }
    }
    // screenshot: "only-on-failure" shot the three failed attempts that had a page open.
    expect(screenshots).toBe(3);
  });

  it("keeps the failing step's error and the test's console output", async () => {
    const { items } = await client.execution.list.query({ limit: 100 });
    const failing = items.find((e) => e.testCaseTitle.endsWith("buys with a missing button"));
    const passing = items.find((e) => e.testCaseTitle.endsWith("shows the heading"));
    if (!failing || !passing) throw new Error("executions missing");
    const failed = await client.execution.get.query({ id: failing.id });
    expect(failed.steps[1]).toMatchObject({ stepDescription: "click the missing button" });
    expect(failed.steps[1]?.errorMessage).toContain("#missing");
    expect(failed.errorMessage).toContain("#missing");
    expect(failed.errorMessage).not.toContain("\u001b[");
    expect(failed).toMatchObject({ totalSteps: 2, passedSteps: 1, failedSteps: 1 });
    const passed = await client.execution.get.query({ id: passing.id });
    expect(passed.consoleLog).toContain("[stdout]\nheading checked");
  });

  it("leaves no execution pending or running", async () => {
    for (const status of ["pending", "running"] as const) {
      expect((await client.execution.list.query({ status })).total).toBe(0);
    }
  });
});

describe("an interrupted Playwright run", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "cancels the running test's execution on %s",
    async (signal) => {
      const [server, page] = await Promise.all([startTestServer(), startPage()]);
      const { token } = await createTestPrincipal(server.database);
      const client = createTestTrackClient({ url: server.url, token });
      const dir = createPlaywrightProject({
        "playwright.config.mjs": playwrightConfig({
          browser: await chromium,
          pageUrl: page.url,
          reporterOptions: { url: server.url, token },
        }),
        "hang.spec.mjs": `import { test } from "@playwright/test";
test("hangs", async ({ page }) => {
  await page.goto("/");
  await test.step("wait forever", () => new Promise(() => {}));
});
`,
      });
      try {
        const run = await runPlaywright(dir, {}, (child) => {
          const poll = setInterval(async () => {
            const { total } = await client.execution.list.query({ status: "running" });
            if (total > 0) {
              clearInterval(poll);
              child.kill(signal);
            }
          }, 200);
          child.on("close", () => clearInterval(poll));
        });
        // Playwright ends the run itself on SIGINT; SIGTERM kills it before any summary.
        if (signal === "SIGINT") expect(run.stdout).toContain("TestTrack: recorded 1 executions");
        const { items } = await client.execution.list.query({});
        expect(items).toHaveLength(1);
        const execution = await client.execution.get.query({ id: items[0]?.id ?? 0 });
        expect(execution.status).toBe("cancelled");
        expect(execution.errorMessage).toMatch(/^Interrupted/);
        expect(execution.completedAt).not.toBeNull();
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await Promise.all([server.close(), page.close()]);
      }
    },
  );
});

describe("a Playwright run whose TestTrack server is unreachable", () => {
  it("finishes with Playwright's own exit code and reports the upload errors on stderr", async () => {
    const dir = createPlaywrightProject({
      "playwright.config.mjs": playwrightConfig({
        browser: await chromium,
        pageUrl: "http://127.0.0.1:9",
        reporterOptions: { url: "http://127.0.0.1:9", token: "unused", retry: { retries: 0 } },
      }),
      "ok.spec.mjs": `import { expect, test } from "@playwright/test";
test("adds", () => {
  expect(1 + 1).toBe(2);
});
`,
    });
    try {
      const run = await runPlaywright(dir, {});
      expect(run.code).toBe(0);
      expect(run.stdout).toContain("1 passed");
      expect(run.stderr).toContain('TestTrack reporter: could not record "adds" (attempt 1)');
      expect(run.stdout).toContain("TestTrack: recorded 0 executions");
      expect(run.stdout).toContain("1 could not be recorded");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a sharded Playwright run", () => {
  let server: TestServer;
  let page: Awaited<ReturnType<typeof startPage>>;
  let client: TestTrackClient;
  let dir: string;
  let token: string;

  beforeAll(async () => {
    [server, page] = await Promise.all([startTestServer(), startPage()]);
    ({ token } = await createTestPrincipal(server.database));
    client = createTestTrackClient({ url: server.url, token });
    dir = createPlaywrightProject({
      "playwright.config.mjs": playwrightConfig({
        browser: await chromium,
        pageUrl: page.url,
        retries: 1,
        reporterOptions: { url: server.url },
      }),
      "cart.spec.mjs": `import { expect, test } from "@playwright/test";
test("adds an item", async ({ page }) => { await page.goto("/"); });
test("passes on retry", async ({ page }, testInfo) => {
  await page.goto("/");
  expect(testInfo.retry, "fails on the first attempt").toBeGreaterThan(0);
});
`,
      "checkout.spec.mjs": `import { expect, test } from "@playwright/test";
test("pays", async ({ page }) => { await page.goto("/"); });
test("refunds", async () => { expect(1, "never refunds").toBe(2); });
`,
    });
    // Two shards of one CI build, at once, as two CI jobs would run them.
    const env = { TESTTRACK_TOKEN: token, CI: "1", TESTTRACK_RUN_KEY: "playwright-build-1" };
    const shards = await Promise.all(
      ["1/2", "2/2"].map((shard) => runPlaywright(dir, env, undefined, [`--shard=${shard}`])),
    );
    for (const shard of shards) expect(shard.stderr).not.toMatch(/TestTrack reporter/);
  }, 120_000);

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await Promise.all([server?.close(), page?.close()]);
  });

  it("records both shards into one run, finished when both are, with the flaky test as flaky", async () => {
    const runs = await client.run.list.query({});
    expect(runs.items).toHaveLength(1);
    const run = await client.run.get.query({ key: "playwright-build-1" });
    expect(run).toMatchObject({
      expectedShards: 2,
      status: "failed",
      tests: 4,
      passed: 2,
      failed: 1,
      flaky: 1,
    });
    expect(run.shards.map((s) => [s.shard, s.finishedAt !== null])).toEqual([
      [1, true],
      [2, true],
    ]);
    const flaky = await client.run.get.query({ id: run.id, outcome: "flaky" });
    expect(flaky.testsPage.items.map((t) => [t.title, t.attempts])).toEqual([
      ["cart.spec.mjs › passes on retry", 2],
    ]);
    // "refunds" failed twice (a retry): one outcome, two executions.
    const failed = await client.run.get.query({ id: run.id, outcome: "failed" });
    expect(failed.testsPage.items.map((t) => [t.title, t.attempts])).toEqual([
      ["checkout.spec.mjs › refunds", 2],
    ]);
    // The finished run is in the health roll-ups: the test that passed on Playwright's retry is
    // flaky, with this run as its evidence; the one that failed both tries is not.
    const health = await client.health.flaky.query({});
    expect(health.items.map((t) => [t.title, t.flakyRuns])).toEqual([
      ["cart.spec.mjs › passes on retry", 1],
    ]);
    expect(health.items[0]?.evidence.runs.map((r) => r.key)).toEqual(["playwright-build-1"]);
  });

  it("leaves Playwright's exit code at 0 when every failing test is in quarantine, and the run passes", async () => {
    const failed = await client.run.get.query({ key: "playwright-build-1", outcome: "failed" });
    const refunds = failed.testsPage.items[0]?.testCaseId ?? 0;
    const env = { TESTTRACK_TOKEN: token, CI: "1" };
    const before = await runPlaywright(
      dir,
      { ...env, TESTTRACK_RUN_KEY: "playwright-build-2" },
      undefined,
      ["checkout.spec.mjs"],
    );
    expect(before.code).toBe(1);
    await client.quarantine.add.mutate({
      testCaseId: refunds,
      reason: "refunds are broken upstream",
    });
    const after = await runPlaywright(
      dir,
      { ...env, TESTTRACK_RUN_KEY: "playwright-build-3" },
      undefined,
      ["checkout.spec.mjs"],
    );
    expect(after.stderr).toContain("1 failing test is in quarantine: they do not fail the run");
    expect(after.code).toBe(0);
    // Still run and recorded: a failure, counted as quarantined.
    expect(await client.run.get.query({ key: "playwright-build-3" })).toMatchObject({
      status: "passed",
      failed: 0,
      quarantined: 1,
      passed: 1,
    });
  }, 120_000);
});
