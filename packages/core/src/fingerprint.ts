import { createHash } from "node:crypto";

/**
 * Failure fingerprints (DESIGN.md "Test health"): the error message with everything that changes
 * from one run to the next replaced (numbers, hex, UUIDs, times, quoted values, temp paths), plus
 * the first stack frame in the project's own code (file and function, no line). Failures with
 * equal fingerprints are one problem; a pure function, so anyone can check a grouping by hand.
 */

// Order matters: longer shapes first, so a UUID is not read as hex and numbers.
const REPLACEMENTS: [RegExp, string][] = [
  // Temp folders (POSIX, macOS, Windows), up to the end of the path.
  [
    /(?:\/tmp|\/var\/folders|\/private\/var\/folders|[A-Za-z]:\\Users\\[^\\\s]+\\AppData\\Local\\Temp)[^\s'"`),:;]*/g,
    "<tmp>",
  ],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<uuid>"],
  // ISO 8601 dates and times, and clock times.
  [
    /\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?\b/g,
    "<time>",
  ],
  [/\b\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\b/g, "<time>"],
  // Quoted values: what a test compared, which names, ids and texts of the run.
  [/"(?:[^"\\\n]|\\.)*"/g, "<q>"],
  [/'(?:[^'\\\n]|\\.)*'/g, "<q>"],
  [/`(?:[^`\\\n]|\\.)*`/g, "<q>"],
  [/\b0x[0-9a-f]+\b/gi, "<hex>"],
  [/\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b/gi, "<hex>"],
  // Numbers, but not the digits of a name (opentest4j, utf8, h2).
  [/(?<![A-Za-z_])\d+/g, "<n>"],
];

/** The message with its changing parts replaced, whitespace collapsed. */
export function normalizeFailureMessage(message: string): string {
  let text = message;
  for (const [pattern, replacement] of REPLACEMENTS) text = text.replace(pattern, replacement);
  return text.replace(/\s+/g, " ").trim();
}

// Frames outside the project's code: dependencies, the runtime, test runners' internals.
const FOREIGN =
  /node_modules|node:internal|internal\/|<anonymous>|site-packages|dist-packages|\/lib\/python\d|^java\.|^javax\.|^jdk\.|^sun\.|^org\.junit\.|^org\.apache\.maven\.|^kotlin\.|\(native\)/;

/**
 * The first stack frame in the project's own code as "file › function" (no line, no column):
 * JavaScript ("at fn (file:1:2)", "at file:1:2"), Python ('File "x.py", line 3, in fn') and JVM
 * ("at pkg.Class.method(File.java:12)") frames; undefined when none is the project's.
 */
export function firstProjectFrame(text: string): string | undefined {
  // Python prints the innermost frame last: read its traceback from the end.
  const lines = text.split("\n");
  if (/Traceback \(most recent call last\)/.test(text)) lines.reverse();
  for (const line of lines) {
    const js = /^\s*at (?:async )?(?:(.+?) \()?((?:file:\/\/)?[^()\s]+?):\d+(?::\d+)?\)?\s*$/.exec(
      line,
    );
    if (js) {
      const [, fn, file] = js;
      if (!file || FOREIGN.test(file)) continue;
      return `${file.replace(/^file:\/\//, "").replace(/^.*?\/(?=(?:src|test|tests|e2e|spec)\/)/, "")} › ${fn ?? "<top>"}`;
    }
    const py = /^\s*File "([^"]+)", line \d+, in (\S+)/.exec(line);
    if (py) {
      const [, file, fn] = py;
      if (!file || FOREIGN.test(file)) continue;
      return `${file.replace(/^.*?\/(?=(?:src|tests?)\/)/, "")} › ${fn}`;
    }
    const jvm = /^\s*at ([\w$.]+)\.([\w$<>]+)\(([^:)]+)(?::\d+)?\)\s*$/.exec(line);
    if (jvm) {
      const [, cls, method, file] = jvm;
      if (!cls || FOREIGN.test(cls)) continue;
      return `${file} › ${cls}.${method}`;
    }
  }
  return undefined;
}

/** The message part of an error text: its first line that is no stack frame (Python: its last). */
function headline(text: string): string {
  if (/Traceback \(most recent call last\)/.test(text)) {
    return text.trimEnd().split("\n").at(-1) ?? "";
  }
  const line = text
    .split("\n")
    .find((l) => l.trim() && !/^\s*(at |File ")/.test(l) && !/^Traceback/.test(l.trim()));
  return line ?? "";
}

/** A failure's fingerprint: 16 hex characters of SHA-256 over the normalised message and frame. */
export function failureFingerprint(errorMessage: string): string {
  const key = `${normalizeFailureMessage(headline(errorMessage))}\n${firstProjectFrame(errorMessage) ?? ""}`;
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}
