import { z } from "zod";

/** Upper bounds on every input (OWASP API4): no single request can exhaust the server. */
export const LIMITS = {
  shortLabel: 50,
  name: 200,
  title: 500,
  path: 500,
  url: 500,
  text: 10_000,
  message: 65_536,
  consoleLog: 1_048_576,
  tags: 50,
  tag: 50,
  testCaseSteps: 200,
  stepsPerCall: 2_000,
  stepsPerExecution: 10_000,
  pageSize: 100,
  idempotencyKey: 200,
  runKey: 200,
  testCaseKey: 1_000,
  testCasesPerEnsure: 500,
  /** The longest duration of an execution or a step: 365 days. */
  durationSeconds: 31_536_000,
} as const;

export const DEFAULT_PAGE_SIZE = 50;

export const MAX_ID = 2_147_483_647;
export const id = z.number().int().positive().max(MAX_ID);

// ES2024's String.prototype.toWellFormed (Node 20+), not yet in the ES2023 lib we compile against.
type WellFormedString = string & { isWellFormed(): boolean; toWellFormed(): string };

/**
 * The one rule for every string TestTrack stores: a lone UTF-16 surrogate (half an emoji, left
 * by a runner that cut a string) and NUL, which PostgreSQL's text and JSON cannot hold, become
 * U+FFFD. Same length, so limits count the same characters. The common case (nothing to
 * replace) is two native checks: this runs on every field of every step of an upload.
 */
export function cleanText(value: string): string {
  const text = value as WellFormedString;
  const wellFormed = text.isWellFormed() ? value : text.toWellFormed();
  return wellFormed.includes("\u0000") ? wellFormed.replaceAll("\u0000", "\uFFFD") : wellFormed;
}

/** A string input, cleaned by `cleanText`; chain `.trim()`, `.min()`, `.max()` as on z.string(). */
export const text = () => z.string().overwrite(cleanText);

/**
 * The instants every date input may name: 1970 to the end of year 9999 in UTC. Later ones
 * PostgreSQL stores but ISO 8601 cannot write in four digits; earlier ones come back wrong from
 * the drivers' date parsing (year 0001 reads as 2001) and are no time a test ran anyway.
 * Outside it is a BAD_REQUEST, never a database error.
 */
export const EARLIEST_DATE = new Date("1970-01-01T00:00:00.000Z");
export const LATEST_DATE = new Date("9999-12-31T23:59:59.999Z");

export function isSupportedDate(date: Date): boolean {
  const time = date.getTime();
  return time >= EARLIEST_DATE.getTime() && time <= LATEST_DATE.getTime();
}

/**
 * ISO 8601 date-time with an offset (`2026-01-31T12:00:00Z`), parsed into a Date. A Date is
 * accepted too (it travels as that string in JSON), so parsing a parsed input again is harmless.
 */
export const isoDateTime = z
  .union([
    z.date(),
    z.iso
      .datetime({
        offset: true,
        message: "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z",
      })
      .transform((value) => new Date(value)),
  ])
  .refine(isSupportedDate, "must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z");

/** A free-text label teams choose themselves (browser, environment), stored in lower case. */
export const label = text().trim().min(1).max(LIMITS.shortLabel).toLowerCase();

export const pagination = {
  skip: z.number().int().min(0).max(1_000_000_000).default(0),
  limit: z.number().int().min(1).max(LIMITS.pageSize).default(DEFAULT_PAGE_SIZE),
};

export interface Page<T> {
  items: T[];
  total: number;
  skip: number;
  limit: number;
}

/**
 * tRPC's infinite queries send the direction they page in with the cursor; pages here always go
 * forward from the cursor, so it is accepted and changes nothing.
 */
export const pageDirection = z.enum(["forward", "backward"]).optional();

/** Where a newest-first page ended: the last row's id and time (kept in case it is deleted). */
export interface KeysetPosition {
  id: number;
  at: Date;
}

/**
 * Keyset pagination: `nextCursor` of one page fetches the next, at the same cost however deep.
 * The cursor is opaque to clients: base64url of "id:milliseconds".
 */
export function encodeKeysetCursor(position: KeysetPosition): string {
  return Buffer.from(`${position.id}:${position.at.getTime()}`).toString("base64url");
}

export function decodeKeysetCursor(value: string): KeysetPosition | undefined {
  const [idPart, msPart, extra] = Buffer.from(value, "base64url").toString("utf8").split(":");
  const rowId = Number(idPart);
  const at = new Date(Number(msPart));
  const valid =
    extra === undefined &&
    Number.isSafeInteger(rowId) &&
    rowId > 0 &&
    rowId <= MAX_ID &&
    isSupportedDate(at);
  return valid ? { id: rowId, at } : undefined;
}

/** A cursor input: one `encodeKeysetCursor` made, else a BAD_REQUEST naming the list. */
export const keysetCursor = (list: string) =>
  z
    .string()
    .max(100)
    .refine(
      (value) => decodeKeysetCursor(value) !== undefined,
      `is not a cursor returned by ${list}`,
    );
