import { LIMITS as serverLimits } from "@testtrack/core";
import { expect, it } from "vitest";
import {
  fitEnd,
  fitStart,
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
  });
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
