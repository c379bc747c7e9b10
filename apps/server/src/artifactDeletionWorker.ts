import {
  type ArtifactStore,
  type ClaimedDeletion,
  claimArtifactDeletions,
  type Database,
  finishArtifactDeletion,
  retryArtifactDeletion,
} from "@testtrack/core";
import type { Logger } from "pino";

export interface ArtifactDeletionWorkerOptions {
  pollMs: number;
  /** How long a claimed deletion is this worker's before another may retry it. */
  claimMs: number;
  /** Waits before the 1st, 2nd, ... retry of a failed deletion (the last one repeats). */
  retryDelaysMs: readonly number[];
  batchSize?: number;
}

export const ARTIFACT_DELETION_DEFAULTS: ArtifactDeletionWorkerOptions = {
  pollMs: 1000,
  claimMs: 60_000,
  retryDelaysMs: [10_000, 60_000, 300_000, 1_800_000],
};

export interface ArtifactDeletionWorker {
  stop(): Promise<void>;
  /** Processes every due deletion now; resolves with how many it removed. */
  drain(): Promise<number>;
}

/**
 * Removes the bytes of deleted artifacts (and of abandoned uploads) after their rows' deletion
 * committed: claims due outbox rows with FOR UPDATE SKIP LOCKED, deletes the object (a missing
 * one counts as deleted), then the row. A crash between the two leaves the row, and the next
 * claim deletes again: safe with any number of instances.
 */
export function startArtifactDeletionWorker(
  db: Database,
  store: ArtifactStore,
  log: Logger,
  options: ArtifactDeletionWorkerOptions = ARTIFACT_DELETION_DEFAULTS,
): ArtifactDeletionWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> = Promise.resolve(0);
  const batchSize = options.batchSize ?? 50;

  const remove = async (deletion: ClaimedDeletion): Promise<boolean> => {
    try {
      await store.delete(deletion.storageKey);
      await finishArtifactDeletion(db, deletion.id);
      return true;
    } catch (error) {
      const delays = options.retryDelaysMs;
      const retryMs = delays[Math.min(deletion.attempts - 1, delays.length - 1)] ?? 60_000;
      log.warn(
        { err: error, deletion: deletion.id, attempt: deletion.attempts, retryMs },
        "deleting an artifact's bytes failed; retrying later",
      );
      await retryArtifactDeletion(db, deletion.id, (error as Error).message, retryMs).catch(
        () => {},
      );
      return false;
    }
  };

  const tick = async (): Promise<number> => {
    let removed = 0;
    for (;;) {
      const claimed = await claimArtifactDeletions(db, {
        limit: batchSize,
        claimMs: options.claimMs,
      });
      const outcomes = await Promise.all(claimed.map(remove));
      removed += outcomes.filter(Boolean).length;
      if (claimed.length < batchSize || stopped) return removed;
    }
  };

  const loop = () => {
    if (stopped) return;
    current = tick().catch((error: unknown) => {
      log.error({ err: error }, "artifact deletion tick failed");
      return 0;
    });
    void current.then(() => {
      if (!stopped) {
        timer = setTimeout(loop, options.pollMs);
        timer.unref();
      }
    });
  };
  timer = setTimeout(loop, options.pollMs);
  timer.unref();

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
    drain: async () => {
      await current;
      current = tick();
      return current;
    },
  };
}
