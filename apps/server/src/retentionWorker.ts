import { applyProjectRetention, type DatabaseHandle } from "@testtrack/core";
import type { Logger } from "pino";

export interface RetentionWorker {
  /** Stops scheduling passes and ends the one under way after its current batch. */
  stop(): Promise<void>;
}

/**
 * Applies projects' `retentionDays` at start and then every `intervalMs`: batches of at most
 * 5,000 rows with a pause between them. Batches claim rows with SKIP LOCKED, so every instance
 * may run it at once.
 */
export function startRetentionWorker(
  database: Pick<DatabaseHandle, "db">,
  options: { intervalMs: number; pauseMs?: number },
  log: Logger,
): RetentionWorker {
  const controller = new AbortController();
  let passes: Promise<void> = Promise.resolve();
  const pass = async () => {
    const deleted = await applyProjectRetention(database.db, {
      pauseMs: options.pauseMs ?? 100,
      signal: controller.signal,
    });
    if (deleted.batches > 0) log.info(deleted, "project retention deleted expired executions");
  };
  // One pass after the other, never two at once in this process.
  const schedule = () => {
    passes = passes
      .then(pass)
      .catch((error: unknown) => log.error({ err: error }, "project retention failed"));
  };
  const timer = setInterval(schedule, options.intervalMs);
  timer.unref();
  schedule();
  return {
    async stop() {
      clearInterval(timer);
      controller.abort();
      await passes;
    },
  };
}
