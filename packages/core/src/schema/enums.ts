import { pgEnum } from "drizzle-orm/pg-core";

export const EXECUTION_STATUSES = [
  "pending",
  "running",
  "completed",
  "failed",
  "cancelled",
] as const;
export const EXECUTION_RESULTS = ["pass", "fail", "error", "skip"] as const;
export const TRIGGERS = ["manual", "scheduled", "ci_cd", "webhook"] as const;
export const USER_ROLES = ["admin", "member"] as const;
export const TOKEN_KINDS = ["session", "api"] as const;
export const RUN_STATUSES = ["running", "passed", "failed", "cancelled", "timed_out"] as const;
/** A test's outcome in a run: its last attempt's result; failed then passed is flaky. */
export const TEST_OUTCOMES = ["passed", "failed", "flaky", "skipped"] as const;
/** A member's role in a project, weakest first (the database enum keeps this order). */
export const PROJECT_ROLES = ["viewer", "member", "maintainer"] as const;

export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];
export type ExecutionResult = (typeof EXECUTION_RESULTS)[number];
export type TriggeredBy = (typeof TRIGGERS)[number];
export type UserRole = (typeof USER_ROLES)[number];
export type TokenKind = (typeof TOKEN_KINDS)[number];
export type ProjectRole = (typeof PROJECT_ROLES)[number];
export type RunStatus = (typeof RUN_STATUSES)[number];
export type TestOutcome = (typeof TEST_OUTCOMES)[number];

/** Value objects so callers can write `ExecutionStatus.RUNNING` as in the seed. */
export const ExecutionStatus = {
  PENDING: "pending",
  RUNNING: "running",
  COMPLETED: "completed",
  FAILED: "failed",
  CANCELLED: "cancelled",
} as const satisfies Record<string, ExecutionStatus>;

export const ExecutionResult = {
  PASS: "pass",
  FAIL: "fail",
  ERROR: "error",
  SKIP: "skip",
} as const satisfies Record<string, ExecutionResult>;

export const TriggeredBy = {
  MANUAL: "manual",
  SCHEDULED: "scheduled",
  CI_CD: "ci_cd",
  WEBHOOK: "webhook",
} as const satisfies Record<string, TriggeredBy>;

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ["completed", "failed", "cancelled"];

export const executionStatusEnum = pgEnum("execution_status", EXECUTION_STATUSES);
export const executionResultEnum = pgEnum("execution_result", EXECUTION_RESULTS);
export const triggeredByEnum = pgEnum("triggered_by", TRIGGERS);
export const userRoleEnum = pgEnum("user_role", USER_ROLES);
export const tokenKindEnum = pgEnum("token_kind", TOKEN_KINDS);
export const projectRoleEnum = pgEnum("project_role", PROJECT_ROLES);
export const runStatusEnum = pgEnum("run_status", RUN_STATUSES);
export const testOutcomeEnum = pgEnum("test_outcome", TEST_OUTCOMES);
