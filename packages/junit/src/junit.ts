import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { DATE_RANGE, fitDuration, testCaseTitle } from "@testtrack/client/reporting";
import { SaxesParser } from "saxes";

export type JUnitResult = "pass" | "fail" | "error" | "skip";

/** One <testcase> of a JUnit report, as TestTrack records it. */
export interface JUnitTestCase {
  /** 0-based position in the file: with the file's hash, it names the execution. */
  index: number;
  /** Line of the <testcase> tag. */
  line: number;
  suite: string;
  classname: string;
  /** Its name, or for a test without one a name made of its position in its suite. */
  name: string;
  result: JUnitResult;
  /** Its `time`, as written: it may be out of TestTrack's range (see `fitTimings`). */
  durationSeconds?: number;
  /**
   * Its own `timestamp` (nextest, googletest), else its suite's (or the report's) plus the
   * time of the test cases before it.
   */
  startedAt?: Date;
  errorMessage?: string;
  consoleLog?: string;
  /**
   * Failed tries before the last one, in order: Maven Surefire's flakyFailure / flakyError of a
   * test that passed at last, or the first failure and the rerunFailure / rerunError elements
   * but the last of a test that never passed.
   */
  earlierTries?: { result: "fail" | "error"; errorMessage: string }[];
}

/** A file that is not a JUnit report (or not well-formed XML): nothing of it may be imported. */
export class JUnitFormatError extends Error {
  override name = "JUnitFormatError";
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
  }
}

/** Something odd in a report that was imported all the same, at the line of its element. */
export interface JUnitWarning {
  file: string;
  line: number;
  message: string;
}

/** Most text kept from one element: a runaway log must not exhaust memory. */
const MAX_ELEMENT_TEXT = 1_048_576;

const OUTCOME_ELEMENTS = new Set([
  "failure",
  "error",
  "skipped",
  "system-out",
  "system-err",
  // Maven Surefire's reruns: flaky* in a test that passed at last, rerun* in one that never did.
  "flakyFailure",
  "flakyError",
  "rerunFailure",
  "rerunError",
]);

/** An open <testsuite>, or the <testsuites> root, which may carry a timestamp too (nextest). */
interface Suite {
  element: string;
  line: number;
  name: string;
  /** When its first test began: its own timestamp, else its parent's clock when it opened. */
  startedAt?: Date;
  /** Seconds its test cases took so far: the next one began that much after startedAt. */
  elapsedSeconds: number;
  /** Its `tests` attribute, compared with the test cases it holds when it closes. */
  declaredTests?: string;
  testCases: number;
}

interface Captured {
  element: string;
  message?: string;
  type?: string;
  text: string;
}

interface OpenTestCase {
  line: number;
  name?: string;
  classname?: string;
  time?: string;
  timestamp?: string;
  /** googletest marks a test it did not run on the element: `status="notrun"` (disabled) or
   * `result="skipped"` (GTEST_SKIP), with no <skipped> child. */
  skippedByAttribute: boolean;
  captured: Captured[];
}

/**
 * Streams a JUnit XML file through a SAX parser, calling `onTestCase` for each <testcase> in
 * order (awaited chunk by chunk, so a slow consumer slows the reading, not the memory). Throws
 * a JUnitFormatError naming the line when the file is not a well-formed JUnit report; callers
 * that must import nothing from such a file read it once without a consumer first. One odd
 * test case (no name, an unreadable time) or suite (an unreadable timestamp, a `tests` count
 * that is not what it holds) is read all the same and answered among the warnings.
 */
export async function readJUnitFile(
  file: string,
  onTestCase: (testCase: JUnitTestCase) => void | Promise<void> = () => {},
): Promise<{ tests: number; sha256: string; warnings: JUnitWarning[] }> {
  const parser = new SaxesParser({ position: true, xmlns: false });
  const hash = createHash("sha256");
  const ready: JUnitTestCase[] = [];
  const suites: Suite[] = [];
  const elements: string[] = [];
  const warnings: JUnitWarning[] = [];
  let testCase: OpenTestCase | undefined;
  let captured: Captured | undefined;
  let failure: JUnitFormatError | undefined;
  let sawRoot = false;
  let tests = 0;

  const fail = (line: number, reason: string) => {
    failure ??= new JUnitFormatError(file, line, reason);
  };
  const warn = (line: number, message: string) => {
    warnings.push({ file, line, message });
  };

  parser.on("error", (error) => {
    fail(parser.line, error.message.replace(/^(?:[^:]*:)?\d+:\d+: /, ""));
  });
  parser.on("opentag", (tag) => {
    const { name } = tag;
    const attributes = tag.attributes as Record<string, string>;
    const parent = elements.at(-1);
    elements.push(name);
    if (!parent) {
      sawRoot = true;
      if (name !== "testsuites" && name !== "testsuite") {
        fail(
          parser.line,
          `expected <testsuites> or <testsuite> as the root element, found <${name}>`,
        );
      }
    }
    if (name === "testsuite" || (name === "testsuites" && !parent)) {
      if (testCase) fail(parser.line, `<${name}> inside a <testcase>`);
      suites.push(openSuite(name, parser.line, attributes, suites.at(-1), warn));
    } else if (name === "testcase") {
      if (testCase) fail(parser.line, "<testcase> inside another <testcase>");
      testCase = {
        line: parser.line,
        name: attributes.name,
        classname: attributes.classname,
        time: attributes.time,
        timestamp: attributes.timestamp,
        skippedByAttribute:
          attributes.status === "notrun" ||
          attributes.result === "skipped" ||
          attributes.result === "suppressed",
        captured: [],
      };
    } else if (testCase && parent === "testcase" && OUTCOME_ELEMENTS.has(name)) {
      captured = { element: name, message: attributes.message, type: attributes.type, text: "" };
      testCase.captured.push(captured);
    }
  });
  const onText = (text: string) => {
    if (captured && captured.text.length < MAX_ELEMENT_TEXT) captured.text += text;
  };
  parser.on("text", onText);
  parser.on("cdata", onText);
  parser.on("closetag", (tag) => {
    elements.pop();
    const suite = suites.at(-1);
    if (suite && tag.name === suite.element) {
      suites.pop();
      checkDeclaredTests(suite, warn);
    } else if (tag.name === "testcase" && testCase) {
      ready.push(finishTestCase(testCase, suites, tests, warn));
      tests++;
      testCase = undefined;
    } else if (captured && tag.name === captured.element) {
      captured = undefined;
    }
  });

  const stream = createReadStream(file, { encoding: "utf8" });
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      hash.update(chunk);
      parser.write(chunk);
      if (failure) throw failure;
      for (const parsed of ready.splice(0)) await onTestCase(parsed);
    }
    parser.close();
  } finally {
    stream.destroy();
  }
  if (!failure && !sawRoot)
    fail(parser.line, "no <testsuites> or <testsuite> element: not a JUnit report");
  if (failure) throw failure;
  for (const parsed of ready.splice(0)) await onTestCase(parsed);
  return { tests, sha256: hash.digest("hex"), warnings: warnings.sort((a, b) => a.line - b.line) };
}

type Warn = (line: number, message: string) => void;

function openSuite(
  element: string,
  line: number,
  attributes: Record<string, string>,
  parent: Suite | undefined,
  warn: Warn,
): Suite {
  const startedAt =
    timestampOf(attributes.timestamp, line, warn) ??
    (parent?.startedAt && new Date(parent.startedAt.getTime() + parent.elapsedSeconds * 1000));
  return {
    element,
    line,
    name: attributes.name ?? "",
    startedAt,
    elapsedSeconds: 0,
    declaredTests: attributes.tests,
    testCases: 0,
  };
}

/** A `tests` count that is not what the suite holds hints at a cut or merged report. */
function checkDeclaredTests(suite: Suite, warn: Warn): void {
  const declared = suite.declaredTests?.trim();
  if (!declared || Number(declared) === suite.testCases) return;
  const named = suite.name ? ` name="${suite.name}"` : "";
  warn(
    suite.line,
    `<${suite.element}${named}> declares tests="${declared}" but holds ${suite.testCases} <testcase> elements; imported those`,
  );
}

function finishTestCase(
  open: OpenTestCase,
  suites: Suite[],
  index: number,
  warn: Warn,
): JUnitTestCase {
  const clock = suites.at(-1);
  const suite = suites.findLast((s) => s.element === "testsuite");
  const position = (clock?.testCases ?? index) + 1;
  const durationSeconds = secondsOf(open.time);
  if (open.time?.trim() && durationSeconds === undefined) {
    warn(open.line, `time="${open.time}" is not a number of seconds; imported without a duration`);
  }
  const startedAt =
    timestampOf(open.timestamp, open.line, warn) ??
    (clock?.startedAt && new Date(clock.startedAt.getTime() + clock.elapsedSeconds * 1000));
  // The next test began when this one ended, as long as TestTrack records it.
  const elapsed = fitDuration(durationSeconds ?? 0).seconds;
  for (const enclosing of suites) {
    enclosing.elapsedSeconds += elapsed;
    enclosing.testCases++;
  }
  let classname = open.classname ?? suite?.name ?? "";
  let name = open.name ?? "";
  if (!name.trim()) {
    // Jest names a test with an empty title so: the suite and the position tell it apart.
    classname = classname.trim() || (suite ?? clock)?.name || "";
    name = `(unnamed test #${position})`;
    const title = titleOf({ classname, name });
    const problem = open.name === undefined ? "no name attribute" : "an empty name";
    warn(open.line, `<testcase> with ${problem}; imported as "${title}"`);
  }
  const texts = (element: string) => open.captured.filter((c) => c.element === element);
  const failures = [...texts("failure"), ...texts("error")];
  const result: JUnitResult =
    texts("failure").length > 0
      ? "fail"
      : texts("error").length > 0
        ? "error"
        : texts("skipped").length > 0 || open.skippedByAttribute
          ? "skip"
          : "pass";
  return {
    index,
    line: open.line,
    suite: suite?.name ?? "",
    classname,
    name,
    result,
    durationSeconds,
    startedAt,
    errorMessage: failures.length > 0 ? failures.map(problemText).join("\n\n") : undefined,
    consoleLog: consoleLogOf(open.captured),
    ...(result === "pass" ? earlierTriesOf(open.captured) : {}),
    ...(result === "fail" || result === "error" ? rerunsOf(open.captured, result, failures) : {}),
  };
}

/** Surefire's flaky* elements of a test that passed at last, as the failed tries they were. */
function earlierTriesOf(captured: Captured[]): Pick<JUnitTestCase, "earlierTries"> {
  const tries = captured
    .filter((c) => c.element === "flakyFailure" || c.element === "flakyError")
    .map((c) => ({
      result: c.element === "flakyError" ? ("error" as const) : ("fail" as const),
      errorMessage: problemText(c),
    }));
  return tries.length > 0 ? { earlierTries: tries } : {};
}

/**
 * Surefire's rerun* elements of a test that failed every time: its <failure> or <error> was the
 * first try and each rerun another, the last one the outcome. Answered as the earlier tries and
 * the last one's result and message.
 */
function rerunsOf(
  captured: Captured[],
  first: "fail" | "error",
  failures: Captured[],
): Partial<Pick<JUnitTestCase, "earlierTries" | "result" | "errorMessage">> {
  const reruns = captured.filter((c) => c.element === "rerunFailure" || c.element === "rerunError");
  const last = reruns.at(-1);
  if (!last) return {};
  const tries = [
    { result: first, errorMessage: failures.map(problemText).join("\n\n") },
    ...reruns.slice(0, -1).map((c) => ({
      result: c.element === "rerunError" ? ("error" as const) : ("fail" as const),
      errorMessage: problemText(c),
    })),
  ];
  return {
    earlierTries: tries,
    result: last.element === "rerunError" ? "error" : "fail",
    errorMessage: problemText(last),
  };
}

/** classname › name, or the name alone when the classname says nothing more (jest-junit). */
export function titleOf(testCase: Pick<JUnitTestCase, "classname" | "name">): string {
  const classname = testCase.classname.trim();
  const name = testCase.name.trim();
  return testCaseTitle(!classname || classname === name ? [name] : [classname, name]);
}

/** A failure's type and message, then its text (usually the stack) unless it repeats them. */
function problemText({ message, type, text }: Captured): string {
  const body = text.trim();
  const header = [type, message].filter(Boolean).join(": ");
  if (!header || (message && body.includes(message))) return body || header;
  return body ? `${header}\n${body}` : header;
}

function consoleLogOf(captured: Captured[]): string | undefined {
  const sections = captured.flatMap(({ element, message, text }) => {
    const body = text.trim() ? text : "";
    switch (element) {
      case "system-out":
      case "system-err":
        return body ? [`[${element}]\n${body}`] : [];
      case "skipped":
        return message || body
          ? [`[skipped]\n${[message, body.trim()].filter(Boolean).join("\n")}`]
          : [];
      case "failure":
      case "error":
        return [];
      default:
        return [`[${element}]\n${problemText({ element, message, text })}`];
    }
  });
  return sections.length > 0 ? sections.join("\n") : undefined;
}

/** Seconds as JUnit writers print them: "0.012", and "1,234.5" from older Surefire. */
function secondsOf(time: string | undefined): number | undefined {
  if (time === undefined) return undefined;
  const trimmed = time.trim().replace(/,/g, "");
  if (trimmed === "") return undefined;
  const seconds = Number(trimmed);
  return Number.isFinite(seconds) ? seconds : undefined;
}

/** The start a timestamp attribute names, or undefined (with a warning when it is unusable). */
function timestampOf(value: string | undefined, line: number, warn: Warn): Date | undefined {
  if (!value?.trim()) return undefined;
  const date = parseTimestamp(value);
  if (!date) {
    warn(
      line,
      `timestamp="${value}" is neither ISO 8601 nor RFC 1123; its tests are imported as run at import time`,
    );
    return undefined;
  }
  const time = date.getTime();
  if (time < DATE_RANGE.earliest || time > DATE_RANGE.latest) {
    warn(
      line,
      `timestamp="${value}" is outside the years 1970 to 9999 TestTrack stores; its tests are imported as run at import time`,
    );
    return undefined;
  }
  return date;
}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

// 2026-11-20T09:30:00.123+01:00, with a space for the T (Python's str()) and " UTC" (TestNG).
const ISO_8601 =
  /^(\d{4})-(\d\d)-(\d\d)[T ](\d\d):(\d\d)(?::(\d\d)(?:[.,](\d+))?)?\s*(Z|UTC|GMT|[+-]\d\d(?::?\d\d)?)?$/i;
// Sat, 03 Dec 2022 23:10:07 GMT (mocha's xunit reporter, JavaScript's toUTCString()).
const RFC_1123 =
  /^(?:[a-z]{3},\s*)?(\d{1,2})\s+([a-z]{3})\s+(\d{4})\s+(\d\d):(\d\d)(?::(\d\d))?\s*(Z|UT|UTC|GMT|[+-]\d{4})$/i;

/**
 * A report's timestamp: ISO 8601 or RFC 1123, read strictly (no guessing at other forms). One
 * without a zone is taken as UTC: jest-junit writes UTC so, while googletest, Ant and
 * older pytest write the machine's local time, which on CI machines is usually UTC as well.
 */
export function parseTimestamp(value: string): Date | undefined {
  const text = value.trim();
  const iso = ISO_8601.exec(text);
  if (iso) {
    const [, year, month, day, hour, minute, second, fraction, zone] = iso;
    const ms = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
    return utcDate([year, month, day, hour, minute, second].map(Number), ms, zone);
  }
  const rfc = RFC_1123.exec(text);
  if (rfc) {
    const [, day, monthName, year, hour, minute, second, zone] = rfc;
    const month = MONTHS.indexOf(monthName?.toLowerCase() ?? "") + 1;
    return utcDate([year, month, day, hour, minute, second].map(Number), 0, zone);
  }
  return undefined;
}

function utcDate(
  [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0]: number[],
  ms: number,
  zone: string | undefined,
): Date | undefined {
  const offset = offsetMinutesOf(zone);
  if (offset === undefined || hour > 23 || minute > 59 || (second || 0) > 59) return undefined;
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not read years 0 to 99 as 1900 to 1999.
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  date.setUTCHours(hour, minute, second || 0, ms);
  return new Date(date.getTime() - offset * 60_000);
}

function offsetMinutesOf(zone: string | undefined): number | undefined {
  if (!zone || /^(Z|UT|UTC|GMT)$/i.test(zone)) return 0;
  const [, sign, hours, minutes] = /^([+-])(\d\d):?(\d\d)?$/.exec(zone) ?? [];
  if (!sign || Number(hours) > 23 || Number(minutes ?? 0) > 59) return undefined;
  return (sign === "-" ? -1 : 1) * (Number(hours) * 60 + Number(minutes ?? 0));
}
