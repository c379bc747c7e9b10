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
  stepsPerCall: 500,
  stepsPerExecution: 10_000,
  pageSize: 100,
  idempotencyKey: 200,
} as const;

export const DEFAULT_PAGE_SIZE = 50;

export const id = z.number().int().positive().max(2_147_483_647);

/**
 * ISO 8601 date-time with an offset (`2026-01-31T12:00:00Z`), parsed into a Date. A Date is
 * accepted too (it travels as that string in JSON), so parsing a parsed input again is harmless.
 */
export const isoDateTime = z.union([
  z.date(),
  z.iso
    .datetime({ offset: true, message: "must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z" })
    .transform((value) => new Date(value)),
]);

/** A free-text label teams choose themselves (browser, environment), stored in lower case. */
export const label = z.string().trim().min(1).max(LIMITS.shortLabel).toLowerCase();

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
