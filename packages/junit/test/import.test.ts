import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJUnitFile } from "../src/junit";
import {
  fixturesDir,
  generateJestReport,
  generatePytestReport,
  generateVitestReport,
  testtrack,
} from "./fixtures";

// Jest and Vitest reports are generated live by each run; pytest's too when pytest is installed.
// Maven Surefire 3.2.5 and pytest 9.0.3 samples were captured from real runs on this machine
// (test/fixtures); Go is not installed here, so the go-junit-report sample follows its
// documented v2 output.
const committed = {
  surefire: join(fixturesDir, "surefire-3.2.5.xml"),
  pytest: join(fixturesDir, "pytest-9.0.3.xml"),
  go: join(fixturesDir, "go-junit-report-2.1.0.xml"),
};

async function resultsOf(file: string) {
  const results: Record<string, string> = {};
  await readJUnitFile(file, (testCase) => {
    results[`${testCase.classname} | ${testCase.name}`] = testCase.result;
  });
  return results;
}

describe("reading JUnit dialects", () => {
  it("reads live Jest, Vitest and pytest reports", async () => {
    const [jest, vitest, pytest] = await Promise.all([
      generateJestReport(),
      generateVitestReport(),
      generatePytestReport(),
    ]);
    expect(await resultsOf(jest)).toEqual({
      "cart adds an item | cart adds an item": "pass",
      "cart applies a discount | cart applies a discount": "fail",
      "cart ships abroad | cart ships abroad": "skip",
    });
    expect(await resultsOf(vitest)).toEqual({
      "cart.test.mjs | cart > adds an item": "pass",
      "cart.test.mjs | cart > applies a discount": "fail",
      "cart.test.mjs | cart > ships abroad": "skip",
    });
    if (pytest) {
      expect(await resultsOf(pytest)).toEqual({
        "test_cart | test_adds_an_item": "pass",
        "test_cart | test_applies_a_discount": "fail",
        "test_cart | test_ships_abroad": "skip",
      });
    }
  });

  it("reads the committed Surefire, pytest and go-junit-report samples", async () => {
    expect(await resultsOf(committed.surefire)).toEqual({
      "com.example.shop.CartTest | addsAnItem": "pass",
      "com.example.shop.CartTest | appliesADiscount": "fail",
      "com.example.shop.CartTest | readsTheStock": "error",
      "com.example.shop.CartTest | shipsAbroad": "skip",
    });
    expect(await resultsOf(committed.pytest)).toEqual({
      "tests.test_checkout | test_adds_an_item": "pass",
      "tests.test_checkout | test_applies_a_discount": "fail",
      "tests.test_checkout | test_ships_abroad": "skip",
      "tests.test_checkout | test_reads_the_stock": "error",
      "tests.test_checkout.TestPayment | test_pays_by_card": "pass",
    });
    expect(await resultsOf(committed.go)).toEqual({
      "example.com/shop/cart | TestAddItem": "pass",
      "example.com/shop/cart | TestDiscount": "fail",
      "example.com/shop/cart | TestShipAbroad": "skip",
      "example.com/shop/cart | TestCheckout/with_card": "pass",
    });
  });

  it("streams a large report without holding it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "testtrack-junit-large-"));
    const file = join(dir, "large.xml");
    const count = 50_000;
    const cases = Array.from(
      { length: count },
      (_, i) =>
        `<testcase classname="big.Suite" name="test ${i}" time="0.001">${i % 10 === 0 ? `<failure message="no ${i}">${"x".repeat(200)}</failure>` : ""}</testcase>`,
    );
    writeFileSync(
      file,
      `<testsuites><testsuite name="big">${cases.join("\n")}</testsuite></testsuites>`,
    );
    try {
      let failed = 0;
      let lastLine = 0;
      const { tests } = await readJUnitFile(file, (testCase) => {
        if (testCase.result === "fail") failed++;
        lastLine = testCase.line;
      });
      expect(tests).toBe(count);
      expect(failed).toBe(count / 10);
      expect(lastLine).toBe(count);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("testtrack import", () => {
  let server: TestServer;
  let client: TestTrackClient;
  let env: Record<string, string>;
  let dir: string;
  let reports: string[];

  beforeAll(async () => {
    server = await startTestServer();
    const { token } = await createTestPrincipal(server.database);
    client = createTestTrackClient({ url: server.url, token });
    env = { TESTTRACK_URL: server.url, TESTTRACK_TOKEN: token, CI: "" };
    dir = mkdtempSync(join(tmpdir(), "testtrack-junit-bad-"));
    const [jest, vitest] = await Promise.all([generateJestReport(), generateVitestReport()]);
    reports = [jest, vitest, committed.surefire, committed.pytest, committed.go];
  });

  afterAll(async () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    await server?.close();
  });

  it("imports every test case of five tools' reports as a completed execution", async () => {
    const run = await testtrack(
      ["import", ...reports, "--environment", "CI", "--trigger", "ci_cd"],
      env,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(
      "Imported 5 files: 19 tests (7 passed, 5 failed, 2 errors, 5 skipped); 19 executions created",
    );
    const { items, total } = await client.execution.list.query({ limit: 100 });
    expect(total).toBe(19);
    for (const execution of items) {
      expect(execution).toMatchObject({
        status: "completed",
        environment: "ci",
        triggeredBy: "ci_cd",
      });
    }
    const byResult = await client.stats.get.query({});
    expect(byResult.byResult).toEqual({ pass: 7, fail: 5, error: 2, skip: 5 });
    expect((await client.execution.list.query({ status: "running" })).total).toBe(0);
    expect((await client.testCase.list.query({ limit: 100 })).total).toBe(19);
  });

  it("titles test cases by classname and name, and keeps timings, errors and output", async () => {
    const { items } = await client.execution.list.query({ limit: 100 });
    const detail = async (title: string) => {
      const found = items.find((e) => e.testCaseTitle === title);
      expect(found, title).toBeDefined();
      return client.execution.get.query({ id: found?.id ?? 0 });
    };
    const surefire = await detail("com.example.shop.CartTest › appliesADiscount");
    expect(surefire).toMatchObject({ result: "fail", durationSeconds: 0.074 });
    expect(surefire.errorMessage).toMatch(
      /^org\.opentest4j\.AssertionFailedError: discounted price ==> expected: <8> but was: <9>\n\tat /,
    );
    const stock = await detail("com.example.shop.CartTest › readsTheStock");
    expect(stock.result).toBe("error");
    expect(stock.consoleLog).toBe("[system-err]\nstock service unavailable\n");
    const go = await detail("example.com/shop/cart › TestDiscount");
    expect(go.errorMessage).toBe("Failed\ncart_test.go:18: discount: got 9, want 8");
    expect(go.startedAt).toBe("2026-11-20T09:30:00.000Z");
    const skipped = await detail("example.com/shop/cart › TestShipAbroad");
    expect(skipped.consoleLog).toContain("[skipped]\nSkipped\ncart_test.go:23: shipping abroad");
    // The suite's timestamp plus the tests before it in the suite.
    expect((await detail("example.com/shop/cart › TestCheckout/with_card")).startedAt).toBe(
      "2026-11-20T09:30:00.001Z",
    );
    const pytest = await detail("tests.test_checkout › test_adds_an_item");
    expect(pytest.consoleLog).toContain("cart has 1 item");
    const jest = await detail("cart applies a discount");
    expect(jest.errorMessage).toMatch(/^Error: expect\(received\)\.toBe\(expected\)/);
    const vitest = await detail("cart.test.mjs › cart > applies a discount");
    expect(vitest.errorMessage).toMatch(/^AssertionError: expected 9 to be 8/);
    expect(vitest.consoleLog).toBeNull();
    expect((await detail("cart.test.mjs › cart > adds an item")).consoleLog).toContain(
      "[system-out]\n\ncart has 1 item",
    );
  });

  it("imports the same reports again without duplicating anything", async () => {
    const run = await testtrack(
      ["import", ...reports, "--environment", "CI", "--trigger", "ci_cd"],
      env,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("; 0 executions created; 19 already imported");
    expect((await client.execution.list.query({})).total).toBe(19);
  });

  it("imports nothing from a malformed file, names it and its line, and imports the others", async () => {
    const truncated = join(dir, "truncated.xml");
    writeFileSync(
      truncated,
      '<?xml version="1.0"?>\n<testsuite name="cut">\n  <testcase classname="a" name="first" time="1"/>\n  <testcase classname="a" name="second"',
    );
    const wrongRoot = join(dir, "wrong-root.xml");
    writeFileSync(wrongRoot, '<?xml version="1.0"?>\n\n<html><body>not a report</body></html>\n');
    const badTime = join(dir, "bad-time.xml");
    writeFileSync(
      badTime,
      '<testsuite name="t">\n<testcase classname="a" name="ok" time="1"/>\n<testcase classname="a" name="x" time="soon"/>\n</testsuite>\n',
    );
    const good = join(dir, "good.xml");
    writeFileSync(good, '<testsuite name="g"><testcase classname="g" name="fine"/></testsuite>');
    const before = (await client.execution.list.query({})).total;

    const run = await testtrack(["import", truncated, wrongRoot, badTime, good], env);
    expect(run.code).toBe(1);
    const errors = run.stderr.trim().split("\n");
    expect(errors).toHaveLength(3);
    expect(errors[0]).toMatch(
      new RegExp(`^testtrack: ${truncated}:4: .*\\(nothing imported from this file\\)$`),
    );
    expect(errors[1]).toBe(
      `testtrack: ${wrongRoot}:3: expected <testsuites> or <testsuite> as the root element, found <html> (nothing imported from this file)`,
    );
    expect(errors[2]).toBe(
      `testtrack: ${badTime}:3: time="soon" is not a number of seconds (nothing imported from this file)`,
    );
    expect(run.stdout).toContain("Imported 1 file: 1 tests");
    expect(run.stdout).toContain("3 files rejected");
    const after = await client.execution.list.query({ limit: 100 });
    expect(after.total).toBe(before + 1);
    expect(
      after.items.filter((e) =>
        ["first", "ok", "x"].includes(e.testCaseTitle.split(" › ")[1] ?? ""),
      ),
    ).toEqual([]);
  });

  it("explains its usage", async () => {
    const run = await testtrack(["import"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("testtrack: name at least one JUnit XML file");
    expect(run.stderr).toContain("Usage: testtrack import <junit.xml>...");
  });
});
