import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
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
  name: string;
  result: JUnitResult;
  durationSeconds?: number;
  /** From the suite's timestamp plus the time of the test cases before this one. */
  startedAt?: Date;
  errorMessage?: string;
  consoleLog?: string;
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

interface Suite {
  name: string;
  timestamp?: Date;
  elapsedSeconds: number;
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
  captured: Captured[];
}

/**
 * Streams a JUnit XML file through a SAX parser, calling `onTestCase` for each <testcase> in
 * order (awaited chunk by chunk, so a slow consumer slows the reading, not the memory). Throws
 * a JUnitFormatError naming the line when the file is not a well-formed JUnit report; callers
 * that must import nothing from such a file read it once without a consumer first.
 */
export async function readJUnitFile(
  file: string,
  onTestCase: (testCase: JUnitTestCase) => void | Promise<void> = () => {},
): Promise<{ tests: number; sha256: string }> {
  const parser = new SaxesParser({ position: true, xmlns: false });
  const hash = createHash("sha256");
  const ready: JUnitTestCase[] = [];
  const suites: Suite[] = [];
  const elements: string[] = [];
  let testCase: OpenTestCase | undefined;
  let captured: Captured | undefined;
  let failure: JUnitFormatError | undefined;
  let sawRoot = false;
  let tests = 0;

  const fail = (line: number, reason: string) => {
    failure ??= new JUnitFormatError(file, line, reason);
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
    if (name === "testsuite") {
      if (testCase) fail(parser.line, "<testsuite> inside a <testcase>");
      suites.push({
        name: attributes.name ?? "",
        timestamp: timestampOf(attributes.timestamp),
        elapsedSeconds: 0,
      });
    } else if (name === "testcase") {
      if (testCase) fail(parser.line, "<testcase> inside another <testcase>");
      testCase = {
        line: parser.line,
        name: attributes.name,
        classname: attributes.classname,
        time: attributes.time,
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
    if (tag.name === "testsuite") suites.pop();
    else if (tag.name === "testcase" && testCase) {
      const parsed = finishTestCase(testCase, suites.at(-1), tests, fail);
      if (parsed) ready.push(parsed);
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
  return { tests, sha256: hash.digest("hex") };
}

function finishTestCase(
  open: OpenTestCase,
  suite: Suite | undefined,
  index: number,
  fail: (line: number, reason: string) => void,
): JUnitTestCase | undefined {
  if (!open.name?.trim()) {
    fail(open.line, "<testcase> without a name attribute");
    return undefined;
  }
  const durationSeconds = secondsOf(open.time);
  if (open.time?.trim() && durationSeconds === undefined) {
    fail(open.line, `time="${open.time}" is not a number of seconds`);
    return undefined;
  }
  const startedAt = suite?.timestamp
    ? new Date(suite.timestamp.getTime() + suite.elapsedSeconds * 1000)
    : undefined;
  if (suite) suite.elapsedSeconds += durationSeconds ?? 0;
  const texts = (element: string) => open.captured.filter((c) => c.element === element);
  const failures = [...texts("failure"), ...texts("error")];
  const result: JUnitResult =
    texts("failure").length > 0
      ? "fail"
      : texts("error").length > 0
        ? "error"
        : texts("skipped").length > 0
          ? "skip"
          : "pass";
  return {
    index,
    line: open.line,
    suite: suite?.name ?? "",
    classname: open.classname ?? suite?.name ?? "",
    name: open.name,
    result,
    durationSeconds,
    startedAt,
    errorMessage: failures.length > 0 ? failures.map(problemText).join("\n\n") : undefined,
    consoleLog: consoleLogOf(open.captured),
  };
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
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** JUnit timestamps usually carry no offset; writers print UTC then. */
function timestampOf(value: string | undefined): Date | undefined {
  if (!value) return undefined;
  const withOffset = /(Z|[+-]\d\d:?\d\d)$/.test(value) ? value : `${value}Z`;
  const date = new Date(withOffset);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
