import { workerData } from "node:worker_threads";
import { createTestTrackClient } from "../client.js";
import type { PendingClose, ServerAddress } from "./closeOnExit.js";

// Runs in the worker thread of `closeExecutionsSync`; wakes the blocked thread when done.
const { url, token, closes, done } = workerData as ServerAddress & {
  closes: PendingClose[];
  done: Int32Array;
};
const client = createTestTrackClient({ url, token });

async function close(pending: PendingClose): Promise<void> {
  let id: number;
  if ("executionId" in pending) {
    id = pending.executionId;
  } else {
    const started = await client.execution.start.mutate(pending.start);
    id = started.executionId;
    // Only cancelling may skip "running".
    if (started.status === "pending" && pending.update.status !== "cancelled") {
      await client.execution.update.mutate({ id, status: "running" });
    }
  }
  await client.execution.update.mutate({ id, ...pending.update });
}

try {
  await Promise.allSettled(closes.map(close));
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}
