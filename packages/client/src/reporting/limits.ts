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
