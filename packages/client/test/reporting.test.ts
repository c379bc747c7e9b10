import {
  EARLIEST_DATE,
  isoDateTime,
  LATEST_DATE,
  LIMITS as serverLimits,
  stepInput,
  updateExecutionInput,
} from "@testtrack/core";
import { expect, it } from "vitest";
import {
  DATE_RANGE,
  fitDuration,
  fitEnd,
  fitStart,
  fitTimings,
  LIMITS,
  labelOf,
  plainText,
  tagsOf,
  testCaseTitle,
} from "../src/reporting/index";

it("cuts values to the server's own input limits", () => {
  expect(LIMITS).toEqual({
    label: serverLimits.shortLabel,
    title: serverLimits.title,
    path: serverLimits.path,
    text: serverLimits.text,
    message: serverLimits.message,
    consoleLog: serverLimits.consoleLog,
    tag: serverLimits.tag,
    tags: serverLimits.tags,
    testCaseKey: serverLimits.testCaseKey,
    durationSeconds: serverLimits.durationSeconds,
  });
});

it("knows the longest duration and the date range the server accepts", () => {
  const longest = LIMITS.durationSeconds;
  const execution = (durationSeconds: number) =>
    updateExecutionInput.safeParse({ id: 1, durationSeconds }).success;
  const step = (durationSeconds: number) =>
    stepInput.safeParse({ stepNumber: 1, stepDescription: "s", result: "pass", durationSeconds })
      .success;
  expect([execution(longest), execution(longest + 0.001)]).toEqual([true, false]);
  expect([step(longest), step(longest + 0.001)]).toEqual([true, false]);
  expect(DATE_RANGE).toEqual({
    earliest: EARLIEST_DATE.getTime(),
    latest: LATEST_DATE.getTime(),
  });
  const date = (ms: number) => isoDateTime.safeParse(new Date(ms).toISOString()).success;
  expect([date(DATE_RANGE.earliest), date(DATE_RANGE.earliest - 1)]).toEqual([true, false]);
  expect([date(DATE_RANGE.latest), date(DATE_RANGE.latest + 1)]).toEqual([true, false]);
});

it("clamps a duration the server would refuse, and says what it changed", () => {
  expect(fitDuration(12.5)).toEqual({ seconds: 12.5 });
  expect(fitDuration(31_536_000)).toEqual({ seconds: 31_536_000 });
  expect(fitDuration(999_638_317)).toEqual({
    seconds: 31_536_000,
    warning:
      "duration 999638317 s is longer than the 31536000 s (365 days) TestTrack stores; recorded as 31536000 s",
  });
  expect(fitDuration(-0.004)).toEqual({
    seconds: 0,
    warning: "duration -0.004 s is not a duration; recorded as 0 s",
  });
  expect(fitDuration(Number.NaN).seconds).toBe(0);
});

it("fits timings into what the server accepts and keeps them consistent", () => {
  const start = new Date("2026-11-20T09:30:00.000Z");
  expect(fitTimings(start, 1.5)).toEqual({
    timings: {
      startedAt: "2026-11-20T09:30:00.000Z",
      completedAt: "2026-11-20T09:30:01.500Z",
      durationSeconds: 1.5,
    },
    warnings: [],
  });
  const nanoseconds = fitTimings(start, 999_638_317);
  expect(nanoseconds.timings).toEqual({
    startedAt: "2026-11-20T09:30:00.000Z",
    completedAt: "2027-11-20T09:30:00.000Z",
    durationSeconds: 31_536_000,
  });
  expect(nanoseconds.warnings).toHaveLength(1);
  const zeroTime = fitTimings(new Date("0001-01-01T00:00:00Z"), 2);
  expect(zeroTime.timings).toEqual({
    startedAt: "1970-01-01T00:00:00.000Z",
    completedAt: "1970-01-01T00:00:02.000Z",
    durationSeconds: 2,
  });
  expect(zeroTime.warnings).toEqual([
    "start time 0001-01-01T00:00:00.000Z puts it outside the years 1970 to 9999 TestTrack stores; recorded as starting at 1970-01-01T00:00:00.000Z",
  ]);
  const atTheEnd = fitTimings(new Date("9999-12-31T23:59:59.000Z"), 10);
  expect(atTheEnd.timings.completedAt).toBe("9999-12-31T23:59:59.999Z");
  expect(atTheEnd.timings.startedAt).toBe("9999-12-31T23:59:49.999Z");
  const invalid = fitTimings(new Date(Number.NaN), 0);
  expect(Math.abs(Date.parse(invalid.timings.startedAt) - Date.now())).toBeLessThan(60_000);
  expect(invalid.warnings[0]).toMatch(/^start time an invalid date puts it outside/);
});

it("keeps the start of a message, the end of a log, and says how much it cut", () => {
  const text = `${"a".repeat(60)}${"b".repeat(60)}`;
  expect(fitStart(text, 80)).toBe(`${"a".repeat(40)}\n… [80 more characters cut]`);
  expect(fitEnd(text, 80)).toBe(`[80 earlier characters cut] …\n${"b".repeat(40)}`);
  expect(fitStart("x".repeat(2_000_000), 1_048_576).length).toBeLessThanOrEqual(1_048_576);
  expect(fitStart("short", 80)).toBe("short");
});

it("turns runner names into the labels, tags and titles the server stores", () => {
  expect(plainText("\u001b[31mExpected\u001b[39m: 2")).toBe("Expected: 2");
  expect(labelOf("  Chromium ")).toBe("chromium");
  expect(labelOf("   ")).toBeUndefined();
  expect(tagsOf(["a.spec.ts", "a.spec.ts", "", undefined, "x".repeat(51), "smoke"])).toEqual([
    "a.spec.ts",
    "smoke",
  ]);
  expect(testCaseTitle(["a.spec.ts", " cart ", "adds an item"])).toBe(
    "a.spec.ts › cart › adds an item",
  );
  const long = testCaseTitle(["x".repeat(600)]);
  expect(long).toHaveLength(500);
  expect(long.endsWith("…")).toBe(true);
});
