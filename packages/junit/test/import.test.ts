import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { importJUnitFiles } from "../src/importer";
import { type JUnitTestCase, parseTimestamp, readJUnitFile, titleOf } from "../src/junit";
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

// Written by hand in the shape each tool writes (jest-junit's as a run here writes it with
// classNameTemplate "{classname}" and titleTemplate "{title}"; the other tools are not
// installed), between them with what the importer once refused or dropped, or never read:
// empty test names (jest-junit, Playwright),
// nanosecond times (container-structure-test before 1.14), TestNG's " UTC" and mocha's RFC 1123
// timestamps, counts that are not what the file holds (gotestsum's TestMain, mocha's errors=),
// timestamps on the report and the test cases rather than the suite (nextest), nested and
// unnamed suites (PHPUnit), no classname (Bazel, container-structure-test), skips marked by
// attributes alone (googletest's disabled tests).
const samples = {
  bazel: join(fixturesDir, "bazel-7.4.1.xml"),
  containerStructureTest: join(fixturesDir, "container-structure-test-1.11.0.xml"),
  googletest: join(fixturesDir, "googletest-1.15.2.xml"),
  gotestsum: join(fixturesDir, "gotestsum-1.12.0.xml"),
  jest: join(fixturesDir, "jest-junit-17.0.0.xml"),
  mocha: join(fixturesDir, "mocha-xunit-10.8.2.xml"),
  nextest: join(fixturesDir, "nextest-0.9.81.xml"),
  phpunit: join(fixturesDir, "phpunit-10.5.38.xml"),
  playwright: join(fixturesDir, "playwright-1.49.1.xml"),
  testng: join(fixturesDir, "testng-7.10.2.xml"),
  xunit: join(fixturesDir, "xunit-net-junit-logger-4.1.0.xml"),
};

async function testCasesOf(file: string) {
  const testCases: JUnitTestCase[] = [];
  const { warnings } = await readJUnitFile(file, (testCase) => {
    testCases.push(testCase);
  });
  return { testCases, warnings: warnings.map(({ line, message }) => `${line}: ${message}`) };
}

async function resultsOf(file: string) {
  const results: Record<string, string> = {};
  await readJUnitFile(file, (testCase) => {
    results[`${testCase.classname} | ${testCase.name}`] = testCase.result;
  });
  return results;
}

describe("reading JUnit dialects", () => {
  it("reads Surefire's reruns as tries: flaky* before a pass, a failure and rerun* before the last", async () => {
    const dir = mkdtempSync(join(tmpdir(), "testtrack-junit-reruns-"));
    const file = join(dir, "TEST-reruns.xml");
    writeFileSync(
      file,
      `<testsuite name="reruns">
  <testcase classname="shop.Cart" name="passesOnRerun" time="0.2">
    <flakyFailure message="expected 2 but was 3" type="AssertionError"/>
  </testcase>
  <testcase classname="shop.Cart" name="alwaysFails" time="0.3">
    <failure message="first: expected 2 but was 3" type="AssertionError"/>
    <rerunFailure message="second: expected 2 but was 4" type="AssertionError"/>
    <rerunError message="third: connection reset" type="IOException"/>
  </testcase>
</testsuite>`,
    );
    try {
      const read: JUnitTestCase[] = [];
      await readJUnitFile(file, (testCase) => {
        read.push(testCase);
      });
      const [flaky, failing] = read;
      expect(flaky?.result).toBe("pass");
      expect(flaky?.earlierTries).toEqual([
        { result: "fail", errorMessage: "AssertionError: expected 2 but was 3" },
      ]);
      expect(failing?.result).toBe("error");
      expect(failing?.errorMessage).toBe("IOException: third: connection reset");
      expect(failing?.earlierTries).toEqual([
        { result: "fail", errorMessage: "AssertionError: first: expected 2 but was 3" },
        { result: "fail", errorMessage: "AssertionError: second: expected 2 but was 4" },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads googletest's disabled and GTEST_SKIP tests as skipped, not passed", async () => {
    expect(await resultsOf(samples.googletest)).toEqual({
      "Cart | AddsItem": "pass",
      "Cart | RejectsNegativeQuantity": "fail",
      "Cart | DISABLED_AppliesCoupon": "skip",
      "Cart | ChecksStock": "skip",
    });
  });

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

  it("reads ten more tools' samples, odd shapes and all", async () => {
    expect(await resultsOf(samples.bazel)).toEqual({
      "//shop/cart:cart_test | //shop/cart:cart_test": "error",
    });
    expect(await resultsOf(samples.containerStructureTest)).toEqual({
      " | Command Test: node version": "pass",
      " | Command Test: npm ci": "fail",
      " | Command Test: curl": "pass",
      " | File Existence Test: /app/server.js": "pass",
    });
    expect(await resultsOf(samples.gotestsum)).toEqual({
      "example.com/shop/cart | TestAddItem": "pass",
      "example.com/shop/cart | TestDiscount": "fail",
      "example.com/shop/stock | TestReadStock": "pass",
      "example.com/shop/stock | TestMain": "fail",
    });
    expect(await resultsOf(samples.jest)).toEqual({
      "cart | adds an item": "pass",
      "cart | ships abroad": "skip",
      "checkout | (unnamed test #3)": "pass",
      "cart | (unnamed test #4)": "fail",
    });
    expect(await resultsOf(samples.mocha)).toEqual({
      "cart | adds an item": "pass",
      "cart | applies a discount": "fail",
      "cart | ships abroad": "skip",
      "checkout | pays by card": "pass",
    });
    expect(await resultsOf(samples.nextest)).toEqual({
      "shop::cart | tests::adds_an_item": "pass",
      "shop::cart | tests::applies_a_discount": "fail",
      "shop::cart | tests::reads_the_stock": "pass",
    });
    expect(await resultsOf(samples.phpunit)).toEqual({
      "Tests.Unit.CartTest | testAddsAnItem": "pass",
      'Tests.Unit.CartTest | testAppliesADiscount with data set "ten percent"': "pass",
      'Tests.Unit.CartTest | testAppliesADiscount with data set "twenty percent"': "fail",
      "Tests.Unit.CartTest | testShipsAbroad": "skip",
    });
    expect(await resultsOf(samples.playwright)).toEqual({
      "cart.spec.ts | cart › adds an item": "pass",
      "cart.spec.ts | cart › applies a discount": "fail",
      "cart.spec.ts | cart › ships abroad": "skip",
      "cart.spec.ts | (unnamed test #4)": "pass",
    });
    expect(await resultsOf(samples.testng)).toEqual({
      "com.example.shop.CartTest | addsAnItem": "pass",
      "com.example.shop.CartTest | appliesADiscount": "fail",
      "com.example.shop.CartTest | shipsAbroad": "skip",
    });
    expect(await resultsOf(samples.xunit)).toEqual({
      "Shop.Tests.CartTests | AddsAnItem": "pass",
      "Shop.Tests.CartTests | AppliesADiscount(price: 10, expected: 8)": "fail",
      "Shop.Tests.CartTests | ShipsAbroad": "skip",
    });
  });

  it("reads ISO 8601 timestamps in any zone, TestNG's ' UTC' and RFC 1123, and guesses at nothing else", () => {
    const read = (value: string) => parseTimestamp(value)?.toISOString();
    expect(read("2026-11-20T09:30:00Z")).toBe("2026-11-20T09:30:00.000Z");
    expect(read("2026-11-20T10:30:00+01:00")).toBe("2026-11-20T09:30:00.000Z");
    expect(read("2026-11-20T04:00:00.5-0530")).toBe("2026-11-20T09:30:00.500Z");
    expect(read("2026-11-24T14:15:26.508915+00:00")).toBe("2026-11-24T14:15:26.508Z");
    expect(read("2021-03-07T10:36:56 UTC")).toBe("2021-03-07T10:36:56.000Z");
    expect(read("2021-03-07 10:36:56")).toBe("2021-03-07T10:36:56.000Z");
    expect(read("Sat, 03 Dec 2022 23:10:07 GMT")).toBe("2022-12-03T23:10:07.000Z");
    expect(read("3 Dec 2022 23:10:07 +0100")).toBe("2022-12-03T22:10:07.000Z");
    // Without a zone, UTC: what jest-junit means, and CI machines' usual local time.
    expect(read("2026-11-20T09:30:00")).toBe("2026-11-20T09:30:00.000Z");
    expect(read("0070-01-01T00:00:00Z")).toBe("0070-01-01T00:00:00.000Z");
    for (const unreadable of [
      "yesterday",
      "1",
      "2026-02-30T09:30:00Z",
      "2026-11-20T24:00:00Z",
      "2026-11-20T09:30:00 CET",
      "Sat, 03 Dez 2022 23:10:07 GMT",
      "Sun Mar 07 10:36:56 UTC 2021",
    ]) {
      expect(read(unreadable), unreadable).toBeUndefined();
    }
  });

  it("dates each test from its own timestamp, else its suite's or its report's, plus the tests before it", async () => {
    const startsOf = async (file: string) =>
      (await testCasesOf(file)).testCases.map((testCase) => testCase.startedAt?.toISOString());
    expect(await startsOf(samples.testng)).toEqual([
      "2021-03-07T10:36:56.000Z",
      "2021-03-07T10:36:56.006Z",
      "2021-03-07T10:36:56.047Z",
    ]);
    expect((await startsOf(samples.mocha)).slice(0, 2)).toEqual([
      "2022-12-03T23:10:07.000Z",
      "2022-12-03T23:10:07.001Z",
    ]);
    expect((await startsOf(samples.gotestsum)).slice(2)).toEqual([
      "2026-11-20T09:30:00.000Z",
      "2026-11-20T09:30:00.400Z",
    ]);
    expect(await startsOf(samples.nextest)).toEqual([
      "2026-11-20T09:30:00.125Z",
      "2026-11-20T09:30:00.126Z",
      "2026-11-20T09:30:00.127Z",
    ]);
    expect((await startsOf(samples.jest))[3]).toBe("2026-11-20T09:30:00.019Z");
    expect(await startsOf(samples.phpunit)).toEqual([undefined, undefined, undefined, undefined]);
  });

  it("names a test without a name by its suite and position, with a warning at its line", async () => {
    const jest = await testCasesOf(samples.jest);
    expect(jest.testCases.map(titleOf)).toEqual([
      "cart › adds an item",
      "cart › ships abroad",
      "checkout › (unnamed test #3)",
      "cart › (unnamed test #4)",
    ]);
    expect(jest.warnings).toEqual([
      '9: <testcase> with an empty name; imported as "checkout › (unnamed test #3)"',
      '11: <testcase> with an empty name; imported as "cart › (unnamed test #4)"',
    ]);
    const playwright = await testCasesOf(samples.playwright);
    expect(playwright.testCases.map(titleOf)[3]).toBe("cart.spec.ts › (unnamed test #4)");
    expect(playwright.warnings).toEqual([
      '25: <testcase> with an empty name; imported as "cart.spec.ts › (unnamed test #4)"',
    ]);
  });

  it("reads what one test or suite gets wrong and warns at its line, rather than refuse the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "testtrack-junit-odd-"));
    const file = join(dir, "odd.xml");
    writeFileSync(
      file,
      [
        '<testsuites tests="5">',
        '  <testsuite name="kotest" tests="2" timestamp="yesterday">',
        '    <testcase classname="Cart" name="adds an item" time="80.803us"/>',
        '    <testcase name="applies a discount" time="-0.004"/>',
        "  </testsuite>",
        '  <testsuite name="go" timestamp="0001-01-01T00:00:00Z">',
        '    <testcase classname="go" time="1"/>',
        "  </testsuite>",
        "</testsuites>",
      ].join("\n"),
    );
    try {
      const { testCases, warnings } = await testCasesOf(file);
      expect(warnings).toEqual([
        '1: <testsuites> declares tests="5" but holds 3 <testcase> elements; imported those',
        '2: timestamp="yesterday" is neither ISO 8601 nor RFC 1123; its tests are imported as run at import time',
        '3: time="80.803us" is not a number of seconds; imported without a duration',
        '6: timestamp="0001-01-01T00:00:00Z" is outside the years 1970 to 9999 TestTrack stores; its tests are imported as run at import time',
        '7: <testcase> with no name attribute; imported as "go › (unnamed test #1)"',
      ]);
      expect(
        testCases.map(({ classname, name, durationSeconds, startedAt }) => ({
          title: titleOf({ classname, name }),
          durationSeconds,
          startedAt,
        })),
      ).toEqual([
        { title: "Cart › adds an item", durationSeconds: undefined, startedAt: undefined },
        { title: "kotest › applies a discount", durationSeconds: -0.004, startedAt: undefined },
        { title: "go › (unnamed test #1)", durationSeconds: 1, startedAt: undefined },
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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

  it("creates no test case twice when two imports of one report start at once", async () => {
    const { token } = await createTestPrincipal(server.database);
    const racing = { ...env, TESTTRACK_TOKEN: token };
    const [first, second] = await Promise.all([
      testtrack(["import", committed.surefire, committed.go], racing),
      testtrack(["import", committed.surefire, committed.go], racing),
    ]);
    expect([first.code, second.code], `${first.stderr}\n${second.stderr}`).toEqual([0, 0]);
    const own = createTestTrackClient({ url: server.url, token });
    const testCases = await own.testCase.list.query({ limit: 100 });
    const keys = testCases.items.map((testCase) => testCase.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys.every((key) => typeof key === "string" && key.length > 0)).toBe(true);
    // The two imports share each test's execution (its idempotency key): one per test, each
    // completed, none left open or cancelled by the import that lost the race.
    const executions = await own.execution.list.query({ limit: 100 });
    expect(executions.total).toBe(testCases.total);
    for (const status of ["pending", "running", "cancelled"] as const) {
      expect((await own.execution.list.query({ status })).total, status).toBe(0);
    }
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
    const good = join(dir, "good.xml");
    writeFileSync(good, '<testsuite name="g"><testcase classname="g" name="fine"/></testsuite>');
    const before = (await client.execution.list.query({})).total;

    const run = await testtrack(["import", truncated, wrongRoot, good], env);
    expect(run.code).toBe(1);
    const errors = run.stderr.trim().split("\n");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(
      new RegExp(`^testtrack: ${truncated}:4: .*\\(nothing imported from this file\\)$`),
    );
    expect(errors[1]).toBe(
      `testtrack: ${wrongRoot}:3: expected <testsuites> or <testsuite> as the root element, found <html> (nothing imported from this file)`,
    );
    expect(run.stdout).toContain("Imported 1 file: 1 tests");
    expect(run.stdout).toContain("2 files rejected");
    const after = await client.execution.list.query({ limit: 100 });
    expect(after.total).toBe(before + 1);
    expect(after.items.filter((e) => e.testCaseTitle === "a › first")).toEqual([]);
  });

  it("imports every tool's sample, fitting what TestTrack cannot store and warning by file and line", async () => {
    const files = Object.values(samples);
    const before = (await client.execution.list.query({})).total;
    const run = await testtrack(["import", ...files], env);
    const duration = (seconds: number) =>
      `warning: duration ${seconds} s is longer than the 31536000 s (365 days) TestTrack stores; recorded as 31536000 s`;
    expect(run.stderr.trim().split("\n")).toEqual([
      `testtrack: ${samples.containerStructureTest}:3: ${duration(548392417)}`,
      `testtrack: ${samples.containerStructureTest}:4: ${duration(999638317)}`,
      `testtrack: ${samples.containerStructureTest}:7: ${duration(207920417)}`,
      `testtrack: ${samples.gotestsum}:2: warning: <testsuites> declares tests="3" but holds 4 <testcase> elements; imported those`,
      `testtrack: ${samples.gotestsum}:12: warning: <testsuite name="example.com/shop/stock"> declares tests="1" but holds 2 <testcase> elements; imported those`,
      `testtrack: ${samples.jest}:9: warning: <testcase> with an empty name; imported as "checkout › (unnamed test #3)"`,
      `testtrack: ${samples.jest}:11: warning: <testcase> with an empty name; imported as "cart › (unnamed test #4)"`,
      `testtrack: ${samples.playwright}:25: warning: <testcase> with an empty name; imported as "cart.spec.ts › (unnamed test #4)"`,
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toBe(
      "Imported 11 files: 38 tests (18 passed, 11 failed, 1 errors, 8 skipped); 39 executions created; 8 warnings",
    );
    // 38 tests, and the failed try of the one that passed on a rerun (a Surefire flakyFailure).
    const { items, total } = await client.execution.list.query({ limit: 100 });
    expect(total).toBe(before + 39);
    for (const status of ["pending", "running", "cancelled"] as const) {
      expect((await client.execution.list.query({ status })).total, status).toBe(0);
    }
    const imported = (title: string) => {
      const found = items.find((e) => e.testCaseTitle === title);
      expect(found, title).toBeDefined();
      return found;
    };
    expect(imported("Command Test: npm ci")).toMatchObject({
      status: "completed",
      result: "fail",
      durationSeconds: 31_536_000,
    });
    expect(imported("cart › (unnamed test #4)")).toMatchObject({ result: "fail" });
    expect(imported("checkout › (unnamed test #3)")).toMatchObject({ result: "pass" });
    expect(imported("com.example.shop.CartTest › shipsAbroad")).toMatchObject({
      startedAt: "2021-03-07T10:36:56.047Z",
    });
    expect(imported("checkout › pays by card")).toMatchObject({
      startedAt: "2022-12-03T23:10:07.004Z",
      completedAt: "2022-12-03T23:10:07.031Z",
    });
    expect(imported("shop::cart › tests::applies_a_discount")).toMatchObject({
      startedAt: "2026-11-20T09:30:00.126Z",
    });
    // Passed on a rerun: its failed try first (attempt 0), then the pass (attempt 1).
    const tries = items
      .filter((e) => e.testCaseTitle === "shop::cart › tests::reads_the_stock")
      .sort((a, b) => a.attempt - b.attempt);
    expect(tries.map((e) => [e.attempt, e.result])).toEqual([
      [0, "fail"],
      [1, "pass"],
    ]);
    expect(tries[0]?.errorMessage).toContain("test failure with exit code 101");

    const again = await testtrack(["import", ...files], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain("; 0 executions created; 38 already imported, 8 warnings");
  });

  it("imports a test whose time cannot be read without a duration, with a warning", async () => {
    const badTime = join(dir, "bad-time.xml");
    writeFileSync(
      badTime,
      '<testsuite name="t">\n<testcase classname="a" name="ok" time="1"/>\n<testcase classname="a" name="x" time="soon"/>\n</testsuite>\n',
    );
    const run = await testtrack(["import", badTime], env);
    expect(run.stderr).toBe(
      `testtrack: ${badTime}:3: warning: time="soon" is not a number of seconds; imported without a duration\n`,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Imported 1 file: 2 tests (2 passed,");
    const { items } = await client.execution.list.query({ limit: 100 });
    expect(items.find((e) => e.testCaseTitle === "a › x")).toMatchObject({
      status: "completed",
      durationSeconds: 0,
    });
  });

  it("cancels, with the server's reason, an execution whose outcome the server refuses", async () => {
    const file = join(dir, "refused.xml");
    writeFileSync(
      file,
      '<testsuite name="limits">\n  <testcase classname="limits" name="outlasts the server\'s limit" time="2"/>\n</testsuite>\n',
    );
    // A server stricter than the client knows: it refuses the completion the importer sends.
    const stricter = {
      testCase: client.testCase,
      execution: {
        start: client.execution.start,
        update: {
          mutate: (input: Parameters<TestTrackClient["execution"]["update"]["mutate"]>[0]) =>
            client.execution.update.mutate(
              input.status === "completed" ? { ...input, durationSeconds: 1e12 } : input,
            ),
        },
      },
    } as unknown as TestTrackClient;

    const summary = await importJUnitFiles(stricter, [file], { retry: { retries: 0 } });
    expect(summary.created).toBe(0);
    expect(summary.uploadErrors).toEqual([
      {
        file,
        line: 2,
        message: expect.stringMatching(
          /^invalid input: durationSeconds: Too big: .* \(execution \d+ was cancelled with this reason\)$/,
        ),
      },
    ]);
    const { items } = await client.execution.list.query({ limit: 100 });
    const refused = items.find((e) => e.testCaseTitle === "limits › outlasts the server's limit");
    expect(refused).toMatchObject({ status: "cancelled", result: null });
    expect(refused?.errorMessage).toMatch(
      /^TestTrack refused this execution's outcome \(completed, pass\): invalid input: durationSeconds: Too big/,
    );
    expect((await client.execution.list.query({ status: "running" })).total).toBe(0);
  });

  it("explains its usage", async () => {
    const run = await testtrack(["import"], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("testtrack: name at least one JUnit XML file");
    expect(run.stderr).toContain("Usage: testtrack <command> [options]");
    expect(run.stderr).toContain("import <junit.xml>...");
  });
});
