/**
 * The server's input limits (packages/core/src/limits.ts; the client test pins them): a reporter cuts a
 * value to fit rather than have the server refuse the whole upload.
 */
export const LIMITS = {
  label: 50,
  title: 500,
  path: 500,
  text: 10_000,
  message: 65_536,
  consoleLog: 1_048_576,
  tag: 50,
  tags: 50,
  testCaseKey: 1_000,
  /** The longest duration, in seconds, of an execution or a step: 365 days. */
  durationSeconds: 31_536_000,
} as const;

/** The instants (milliseconds since 1970) a date field may hold: 1970 to the end of 9999, UTC. */
export const DATE_RANGE = {
  earliest: Date.UTC(1970, 0, 1),
  latest: Date.UTC(9999, 11, 31, 23, 59, 59, 999),
} as const;

// biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escape sequences start with ESC.
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

/** Runners colour their error messages for terminals; TestTrack stores plain text. */
export function plainText(text: string): string {
  return text.replace(ANSI_ESCAPE, "");
}

/** Keeps the beginning of `text` (where an error message says what went wrong). */
export function fitStart(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = max - NOTE_ROOM;
  return `${text.slice(0, kept)}\n… [${text.length - kept} more characters cut]`;
}

/** Keeps the end of `text` (the latest console output). */
export function fitEnd(text: string, max: number): string {
  if (text.length <= max) return text;
  const kept = max - NOTE_ROOM;
  return `[${text.length - kept} earlier characters cut] …\n${text.slice(text.length - kept)}`;
}

/** Room left for the note saying how much was cut. */
const NOTE_ROOM = 40;

/** A free-text label (browser, environment) as the server stores it, or undefined when empty. */
export function labelOf(value: string | undefined): string | undefined {
  const label = value?.trim().toLowerCase().slice(0, LIMITS.label).trim();
  return label ? label : undefined;
}

/** Tags the server accepts: non-empty, short enough, no duplicates, not too many. */
export function tagsOf(candidates: Array<string | undefined>): string[] {
  const tags = candidates
    .map((tag) => tag?.trim())
    .filter((tag): tag is string => !!tag && tag.length <= LIMITS.tag);
  return [...new Set(tags)].slice(0, LIMITS.tags);
}

/** A duration the server stores, and a warning saying what it changed, if it changed anything. */
export function fitDuration(seconds: number): { seconds: number; warning?: string } {
  if (!Number.isFinite(seconds) || seconds < 0) {
    return { seconds: 0, warning: `duration ${seconds} s is not a duration; recorded as 0 s` };
  }
  if (seconds <= LIMITS.durationSeconds) return { seconds };
  return {
    seconds: LIMITS.durationSeconds,
    warning: `duration ${seconds} s is longer than the ${LIMITS.durationSeconds} s (365 days) TestTrack stores; recorded as ${LIMITS.durationSeconds} s`,
  };
}

/** The timing fields of an execution or step update. */
export interface Timings {
  startedAt: string;
  completedAt: string;
  durationSeconds: number;
}

/**
 * Timings the server accepts for something that began at `startedAt` and took `durationSeconds`:
 * the duration cut to LIMITS.durationSeconds, both instants moved into DATE_RANGE, with a warning
 * for each change, so that a reporter records the rest rather than have the whole update refused.
 */
export function fitTimings(
  startedAt: Date,
  durationSeconds: number,
): { timings: Timings; warnings: string[] } {
  const duration = fitDuration(durationSeconds);
  const warnings = duration.warning ? [duration.warning] : [];
  const ms = Math.round(duration.seconds * 1000);
  const asked = startedAt.getTime();
  const start = Number.isNaN(asked)
    ? Date.now() - ms
    : Math.min(Math.max(asked, DATE_RANGE.earliest), DATE_RANGE.latest - ms);
  if (start !== asked) {
    const was = Number.isNaN(asked) ? "an invalid date" : startedAt.toISOString();
    warnings.push(
      `start time ${was} puts it outside the years 1970 to 9999 TestTrack stores; recorded as starting at ${new Date(start).toISOString()}`,
    );
  }
  return {
    timings: {
      startedAt: new Date(start).toISOString(),
      completedAt: new Date(start + ms).toISOString(),
      durationSeconds: duration.seconds,
    },
    warnings,
  };
}
