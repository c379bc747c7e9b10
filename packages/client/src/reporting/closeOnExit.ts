import { Worker } from "node:worker_threads";
import type { RouterInputs } from "../client.js";

type ExecutionUpdate = Omit<RouterInputs["execution"]["update"], "id">;

/**
 * An execution to close: by id, or, while its start is still on the way, by replaying that
 * start (same idempotency key, so the server answers with the same execution).
 */
export type PendingClose = { update: ExecutionUpdate } & (
  | { executionId: number }
  | { start: RouterInputs["execution"]["start"] }
);

export interface ServerAddress {
  url: string;
  token: string;
}

/**
 * Closes executions while the process is going down, when no promise will ever be awaited
 * again: a worker thread makes the calls and this thread blocks until it is done (or timeoutMs).
 */
export function closeExecutionsSync(
  server: ServerAddress,
  closes: PendingClose[],
  timeoutMs = 20_000,
): void {
  if (closes.length === 0) return;
  const done = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(new URL("./closeWorker.js", import.meta.url), {
    workerData: { ...server, closes, done },
  });
  Atomics.wait(done, 0, 0, timeoutMs);
  void worker.terminate();
}

/**
 * Calls `closeOpen` (synchronous) when the process exits, or when a stop signal that nobody
 * else handles would kill it outright; the signal then ends the process as it would have.
 */
export function closeOnExit(closeOpen: () => void): void {
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = (signal: NodeJS.Signals) => {
    // The runner handles it: it ends the run cleanly or exits, which "exit" below catches.
    if (process.listenerCount(signal) > 1) return;
    for (const name of signals) process.removeListener(name, onSignal);
    closeOpen();
    process.kill(process.pid, signal);
  };
  for (const name of signals) process.on(name, onSignal);
  process.on("exit", closeOpen);
}
