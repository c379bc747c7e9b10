import { applyRetention, type DatabaseHandle, ensureStepPartitions } from "@testtrack/core";
import type { Logger } from "pino";

export interface RetentionWorker {
  /** Stops scheduling passes and ends the one under way after its current batch. */
  stop(): Promise<void>;
}

/**
 * At start and then every `intervalMs`: creates the step partitions of the coming months, then
 * applies retention: whole step months past the instance-wide horizon (`retentionDays`,
 * TESTTRACK_RETENTION_DAYS) are dropped, and expired executions (that horizon or their project's
 * `retentionDays`) and artifacts (`artifactRetentionDays`) deleted in batches of at most 5,000
 * rows with a pause between them. Batches claim rows with SKIP LOCKED and partition changes take
 * an advisory lock, so every instance may run it at once.
 */
export function startRetentionWorker(
  database: Pick<DatabaseHandle, "db">,
  options: { intervalMs: number; pauseMs?: number; retentionDays?: number | null },
  log: Logger,
): RetentionWorker {
  const controller = new AbortController();
  let passes: Promise<void> = Promise.resolve();
  const pass = async () => {
    const created = await ensureStepPartitions(database.db);
    if (created > 0) log.info({ created }, "created step partitions for the coming months");
    const deleted = await applyRetention(database.db, {
      instanceRetentionDays: options.retentionDays,
      pauseMs: options.pauseMs ?? 100,
      signal: controller.signal,
    });
    if (deleted.batches > 0 || deleted.partitionsDropped.length > 0) {
      log.info(deleted, "retention deleted expired data");
    }
  };
  // One pass after the other, never two at once in this process.
  const schedule = () => {
    passes = passes
      .then(pass)
      .catch((error: unknown) => log.error({ err: error }, "retention failed"));
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
