import { ConflictError } from "./errors";
import { type ExecutionStatus, TERMINAL_STATUSES } from "./schema";

/** Which status may follow which. Terminal statuses (completed, failed, cancelled) are final. */
export const NEXT_STATUSES: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  pending: ["running", "cancelled"],
  running: ["completed", "failed", "cancelled"],
  completed: [],
  failed: [],
  cancelled: [],
};

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Throws a ConflictError unless `to` may follow `from`; repeating the current status is allowed. */
export function assertTransition(from: ExecutionStatus, to: ExecutionStatus): void {
  if (from === to || NEXT_STATUSES[from].includes(to)) return;
  const allowed = NEXT_STATUSES[from];
  throw new ConflictError(
    allowed.length === 0
      ? `the execution is already ${from}, which is final; it cannot become ${to}`
      : `an execution that is ${from} cannot become ${to}; it can become ${allowed.join(" or ")}`,
  );
}
