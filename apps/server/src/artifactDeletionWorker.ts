import {
  type ArtifactStore,
  type ClaimedDeletion,
  claimArtifactDeletions,
  type Database,
  finishArtifactDeletion,
  retryArtifactDeletion,
} from "@testtrack/core";
import type { Logger } from "pino";
import { type PollingWorker, startPollingWorker } from "./pollingWorker";

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

/** `drain` resolves with how many deletions it removed. */
export type ArtifactDeletionWorker = PollingWorker;

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

  return startPollingWorker(
    {
      name: "artifact deletion pass",
      pollMs: options.pollMs,
      batchSize: options.batchSize ?? 50,
      claim: (limit) => claimArtifactDeletions(db, { limit, claimMs: options.claimMs }),
      handle: remove,
    },
    log,
  );
}
