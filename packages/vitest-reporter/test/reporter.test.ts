import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVitestProject, type ProcessResult, runVitest, vitestConfig } from "./fixtures";

const cartTest = `import { describe, expect, it } from "vitest";

describe("cart", () => {
  it("adds an item", () => {
    console.log("adding one item");
    expect(1 + 1).toBe(2);
  });

  it("applies a discount", () => {
    expect(10 * 0.9).toBe(8);
  });

  it.skip("ships abroad", () => {});

  describe("checkout", () => {
    let attempts = 0;
    it("recovers from a flaky payment", { retry: 2 }, () => {
      attempts++;
      expect(attempts).toBeGreaterThan(1);
    });

    it.todo("takes vouchers");
  });
});

it("throws outside any suite", () => {
  throw new TypeError("the basket is gone");
});
`;

const stockTest = `import { expect, it } from "vitest";

it("counts the stock", () => {
  expect([1, 2, 3]).toHaveLength(3);
});
`;

interface JsonAssertion {
  ancestorTitles: string[];
  title: string;
  status: "passed" | "failed" | "skipped" | "pending" | "todo";
  duration?: number | null;
  failureMessages: string[] | null;
}

interface JsonReport {
  numTotalTests: number;
  testResults: Array<{ name: string; assertionResults: JsonAssertion[] }>;
}

/** Every test Vitest's JSON reporter saw, titled as the TestTrack reporter titles it. */
function reportedTests(report: JsonReport, root: string) {
  return report.testResults.flatMap((file) =>
    file.assertionResults.map((test) => ({
      title: [file.name.slice(root.length + 1), ...test.ancestorTitles, test.title].join(" › "),
      test,
    })),
  );
}

const expectedResult = {
  passed: "pass",
  failed: "fail",
  skipped: "skip",
  pending: "skip",
  todo: "skip",
};

describe("a Vitest run reporting to TestTrack", () => {
  let server: TestServer;
  let client: TestTrackClient;
  let dir: string;
  let run: ProcessResult;
  let report: JsonReport;

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    client = createTestTrackClient({ url: server.url, token });
    dir = createVitestProject({
      "vitest.config.mjs": vitestConfig({ token, environment: "Nightly" }),
      "cart.test.mjs": cartTest,
      "stock/stock.test.mjs": stockTest,
    });
    run = await runVitest(dir, { TESTTRACK_URL: server.url, CI: "1" });
    report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as JsonReport;
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.close();
  });

  it("runs the project with the outcomes the tests intend", () => {
    expect(run.stderr).not.toContain("TestTrack reporter:");
    const outcomes = Object.fromEntries(
      reportedTests(report, dir).map(({ title, test }) => [title, test.status]),
    );
    expect(outcomes).toEqual({
      "cart.test.mjs › cart › adds an item": "passed",
      "cart.test.mjs › cart › applies a discount": "failed",
      "cart.test.mjs › cart › ships abroad": "skipped",
      "cart.test.mjs › cart › checkout › recovers from a flaky payment": "passed",
      "cart.test.mjs › cart › checkout › takes vouchers": "todo",
      "cart.test.mjs › throws outside any suite": "failed",
      "stock/stock.test.mjs › counts the stock": "passed",
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      "TestTrack: recorded 7 executions (3 passed, 2 failed, 2 skipped)",
    );
  });

  it("stores one test case per test, titled by file, suites and name", async () => {
    const { items, total } = await client.testCase.list.query({ limit: 100 });
    expect(total).toBe(7);
    expect(items.map((testCase) => testCase.title).sort()).toEqual(
      reportedTests(report, dir)
        .map(({ title }) => title)
        .sort(),
    );
    const stock = items.find((testCase) => testCase.title.startsWith("stock/"));
    expect(stock?.tags).toEqual(["stock/stock.test.mjs"]);
  });

  it("stores every test as an execution matching what Vitest reported", async () => {
    const { items, total } = await client.execution.list.query({ limit: 100 });
    // Seven tests, and the failed try of the one that passed on a retry.
    expect(total).toBe(8);
    for (const { title, test } of reportedTests(report, dir)) {
      // The last try of each test (the retried one's failed try has the lower attempt).
      const summary = items
        .filter((e) => e.testCaseTitle === title)
        .sort((a, b) => b.attempt - a.attempt)[0];
      expect(summary, title).toBeDefined();
      const execution = await client.execution.get.query({ id: summary?.id ?? 0 });
      expect(execution, title).toMatchObject({
        status: "completed",
        result: expectedResult[test.status],
        browser: null,
        environment: "nightly",
        triggeredBy: "ci_cd",
      });
      // Vitest knows a test's line only with includeTaskLocation.
      expect(execution.triggerDetails).toBe(`Vitest, ${title.split(" › ")[0]}`);
      expect(execution.durationSeconds).toBeCloseTo((test.duration ?? 0) / 1000, 2);
      if (test.status === "failed") {
        const [message] = test.failureMessages ?? [];
        expect(execution.errorMessage).toContain(message?.split("\n")[0]);
        expect(execution.errorMessage).toMatch(/\n\s+at .*cart\.test\.mjs:\d+/);
      } else {
        expect(execution.errorMessage).toBeNull();
      }
    }
  });

  it("keeps error messages, console output and retries", async () => {
    const { items } = await client.execution.list.query({ limit: 100 });
    const detail = (suffix: string) => {
      const found = items
        .filter((e) => e.testCaseTitle.endsWith(suffix))
        .sort((a, b) => b.attempt - a.attempt)[0];
      return client.execution.get.query({ id: found?.id ?? 0 });
    };
    expect((await detail("applies a discount")).errorMessage).toMatch(
      /^AssertionError: expected 9 to be 8/,
    );
    expect((await detail("throws outside any suite")).errorMessage).toMatch(
      /^TypeError: the basket is gone\n/,
    );
    expect((await detail("adds an item")).consoleLog).toBe("[stdout]\nadding one item\n");
    expect((await detail("recovers from a flaky payment")).consoleLog).toBe(
      "[vitest]\nretried 1 times",
    );
  });

  it("leaves no execution pending or running", async () => {
    for (const status of ["pending", "running"] as const) {
      expect((await client.execution.list.query({ status })).total).toBe(0);
    }
  });

  it("records the test run as one run, the retried test as flaky", async () => {
    const { items } = await client.run.list.query({});
    expect(items).toHaveLength(1);
    const run = await client.run.get.query({ id: items[0]?.id ?? 0, limit: 100 });
    expect(run).toMatchObject({
      status: "failed",
      tests: 7,
      passed: 2,
      failed: 2,
      flaky: 1,
      skipped: 2,
    });
    const flaky = run.testsPage.items.find((t) => t.outcome === "flaky");
    expect(flaky).toMatchObject({
      title: "cart.test.mjs › cart › checkout › recovers from a flaky payment",
      attempts: 2,
    });
  });

  it("exits 0 when every failing test is in quarantine, recording them as quarantined", async () => {
    const first = (await client.run.list.query({})).items[0]?.id ?? 0;
    const failed = await client.run.get.query({ id: first, outcome: "failed" });
    expect(failed.testsPage.items).toHaveLength(2);
    for (const test of failed.testsPage.items) {
      await client.quarantine.add.mutate({ testCaseId: test.testCaseId, reason: "known bug" });
    }
    const again = await runVitest(dir, {
      TESTTRACK_URL: server.url,
      CI: "1",
      TESTTRACK_RUN_KEY: "vitest-quarantined",
    });
    expect(again.stderr).toContain(
      "TestTrack reporter: 2 failing tests are in quarantine: they do not fail the run",
    );
    expect(again.code).toBe(0);
    expect(await client.run.get.query({ key: "vitest-quarantined" })).toMatchObject({
      status: "passed",
      failed: 0,
      quarantined: 2,
    });
  });
});

describe("a Vitest run with a duration TestTrack cannot store", () => {
  it("records the test as passed, its duration cut to a year, with a warning", async () => {
    const server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    const client = createTestTrackClient({ url: server.url, token });
    const dir = createVitestProject({
      "vitest.config.mjs": vitestConfig({ url: server.url, token }, ["./clock-jump.mjs"]),
      // Stands in for a runner whose clock jumped: Vitest's own timings cannot be made this long.
      "clock-jump.mjs": `export default class ClockJump {
  onTestCaseResult(testCase) {
    testCase.task.result.duration = 2 * 365 * 24 * 3600 * 1000;
  }
}
`,
      "slow.test.mjs": `import { it } from "vitest";
it("outlasts a year", () => {});
`,
    });
    try {
      const run = await runVitest(dir, {});
      expect(run.stderr).toContain(
        'TestTrack reporter: "outlasts a year": duration 63072000 s is longer than the 31536000 s (365 days) TestTrack stores; recorded as 31536000 s\n',
      );
      expect(run.stderr).not.toContain("could not record");
      expect(run.stdout).toContain(
        "TestTrack: recorded 1 executions (1 passed, 0 failed, 0 skipped)",
      );
      const { items } = await client.execution.list.query({});
      expect(items).toHaveLength(1);
      const [execution] = items;
      expect(execution).toMatchObject({
        status: "completed",
        result: "pass",
        durationSeconds: 31_536_000,
      });
      const recordedMs =
        Date.parse(execution?.completedAt ?? "") - Date.parse(execution?.startedAt ?? "");
      expect(recordedMs).toBe(31_536_000_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await server.close();
    }
  });
});

describe("an interrupted Vitest run", () => {
  it.each(["SIGINT", "SIGTERM"] as const)(
    "cancels the running test's execution on %s",
    async (signal) => {
      const server = await startTestServer();
      const { token } = await createTestPrincipal(server.database);
      const client = createTestTrackClient({ url: server.url, token });
      const dir = createVitestProject({
        "vitest.config.mjs": vitestConfig({ url: server.url, token }),
        "hang.test.mjs": `import { it } from "vitest";
it("hangs", { timeout: 60_000 }, () => new Promise(() => {}));
`,
      });
      try {
        const run = await runVitest(dir, {}, (child) => {
          const poll = setInterval(async () => {
            const { total } = await client.execution.list.query({ status: "running" });
            if (total > 0) {
              clearInterval(poll);
              child.kill(signal);
            }
          }, 200);
          child.on("close", () => clearInterval(poll));
        });
        expect(run.code ?? run.signal).toBeTruthy();
        const { items } = await client.execution.list.query({});
        expect(items).toHaveLength(1);
        const execution = await client.execution.get.query({ id: items[0]?.id ?? 0 });
        expect(execution.status).toBe("cancelled");
        expect(execution.errorMessage).toMatch(/^Interrupted/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
        await server.close();
      }
    },
  );
});

describe("a Vitest run whose TestTrack server is unreachable", () => {
  it("finishes with Vitest's own exit code and reports the upload errors on stderr", async () => {
    const dir = createVitestProject({
      "vitest.config.mjs": vitestConfig({
        url: "http://127.0.0.1:9",
        token: "unused",
        retry: { retries: 0 },
      }),
      "stock.test.mjs": stockTest,
    });
    try {
      const run = await runVitest(dir, {});
      expect(run.code).toBe(0);
      expect(run.stderr).toContain('TestTrack reporter: could not record "counts the stock"');
      expect(run.stdout).toContain("TestTrack: recorded 0 executions");
      expect(run.stdout).toContain("1 could not be recorded");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
