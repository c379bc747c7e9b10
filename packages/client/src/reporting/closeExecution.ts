import {
  errorCode,
  isTransientError,
  type RouterInputs,
  type RouterOutputs,
  type TestTrackClient,
} from "../client.js";
import type { ExecutionStatus } from "../generated/appRouter.js";
import { type RetryOptions, withRetry } from "../recorder.js";
import { fitStart, LIMITS } from "./limits.js";

type ExecutionUpdate = Omit<RouterInputs["execution"]["update"], "id">;
type Execution = RouterOutputs["execution"]["update"];

const FINAL_STATUSES: readonly ExecutionStatus[] = ["completed", "failed", "cancelled"];

/**
 * Closes an open execution with `outcome`, moving a pending one to running first as the
 * lifecycle asks. When the server refuses (a bad value, which no retry fixes), the execution is
 * cancelled with the refusal as its error message rather than left running for the
 * stuck-execution sweep to mark failed, and the refusal is thrown, saying so. A transient
 * failure is thrown as it is: the execution stays open for a later attempt to close. When
 * another process closed it first (two imports of one report share an execution through its
 * idempotency key), the execution is answered as that process left it, with `closedElsewhere`.
 */
export async function closeExecution(
  client: TestTrackClient,
  execution: { executionId: number; status: ExecutionStatus },
  outcome: ExecutionUpdate,
  retry: RetryOptions = {},
): Promise<Execution & { closedElsewhere?: true }> {
  const id = execution.executionId;
  const update = (changes: ExecutionUpdate) =>
    withRetry(() => client.execution.update.mutate({ id, ...changes }), retry);
  try {
    if (execution.status === "pending" && outcome.status !== "cancelled") {
      await update({ status: "running", startedAt: outcome.startedAt });
    }
    return await update(outcome);
  } catch (error) {
    if (isTransientError(error)) throw error;
    if (errorCode(error) === "CONFLICT") {
      // A lifecycle conflict is another writer's doing, not a bad value: never cancel for it.
      const current = await withRetry(() => client.execution.get.query({ id }), retry);
      if (FINAL_STATUSES.includes(current.status)) return { ...current, closedElsewhere: true };
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    const outcomeNamed = [outcome.status, outcome.result].filter(Boolean).join(", ");
    const errorMessage = [
      `TestTrack refused this execution's outcome (${outcomeNamed}): ${reason}`,
      outcome.errorMessage,
    ]
      .filter(Boolean)
      .join("\n\n");
    try {
      await update({ status: "cancelled", errorMessage: fitStart(errorMessage, LIMITS.message) });
    } catch {
      throw error;
    }
    throw new Error(`${reason} (execution ${id} was cancelled with this reason)`, {
      cause: error,
    });
  }
}
