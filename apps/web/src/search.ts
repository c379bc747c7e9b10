import { type ExecutionResult, type ExecutionStatus, RESULTS, STATUSES } from "./format";

export const PAGE_SIZES = [10, 25, 50, 100] as const;

/** Every filter and page of the executions list, as the address bar holds it. */
export interface ExecutionsSearch {
  status?: ExecutionStatus;
  result?: ExecutionResult;
  browser?: string;
  environment?: string;
  testCaseId?: number;
  skip?: number;
  limit?: number;
}

const text = (value: unknown) =>
  typeof value === "string" || typeof value === "number"
    ? String(value).trim() || undefined
    : undefined;
export const positive = (value: unknown) => {
  const n = Number(value);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
};
const oneOf = <T extends string>(value: unknown, allowed: readonly T[]) =>
  allowed.find((option) => option === value);

/** The project every page shows, as the address bar holds it: a shared link opens the same one. */
export interface ProjectSearch {
  project?: number;
}

export function validateProjectSearch(search: Record<string, unknown>): ProjectSearch {
  return { project: positive(search.project) };
}

/** An address someone typed or shared: anything unknown or malformed is dropped, not an error. */
export function validateExecutionsSearch(search: Record<string, unknown>): ExecutionsSearch {
  const limit = Number(search.limit);
  return {
    status: oneOf(search.status, STATUSES),
    result: oneOf(search.result, RESULTS),
    browser: text(search.browser),
    environment: text(search.environment),
    testCaseId: positive(search.testCaseId),
    skip: positive(search.skip),
    limit: (PAGE_SIZES as readonly number[]).includes(limit) ? limit : undefined,
  };
}

/** The run page's tests table: one outcome (or all) and a title search. */
export const RUN_OUTCOMES = ["failed", "flaky", "skipped", "passed", "all"] as const;
export type RunOutcome = (typeof RUN_OUTCOMES)[number];
/** The longest title search the server takes. */
export const RUN_SEARCH_MAX = 200;

export interface RunSearch {
  outcome?: RunOutcome;
  search?: string;
}

export function validateRunSearch(search: Record<string, unknown>): RunSearch {
  return {
    outcome: oneOf(search.outcome, RUN_OUTCOMES),
    search: text(search.search)?.slice(0, RUN_SEARCH_MAX).trim(),
  };
}
