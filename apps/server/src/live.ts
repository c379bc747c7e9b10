import { EventEmitter } from "node:events";
import {
  type Actor,
  type Database,
  type DatabaseHandle,
  executionStepsSince,
  isTerminal,
  listenForSteps,
  type watchStepsInput,
} from "@testtrack/core";
import { tracked } from "@trpc/server";
import type { Logger } from "pino";
import type { z } from "zod";

/** Wake-ups for one subscriber: changes that arrive while it is busy are kept, not lost. */
export interface StepWakeups {
  /**
   * Resolves true at the next change (at once if one came since the last call) or, with no
   * change, after the feed's re-check interval; false once stopped.
   */
  next(): Promise<boolean>;
  close(): void;
}

/**
 * The process's one database listener, fanned out to subscribers by execution id. Fed only by
 * PostgreSQL notifications, so a step written through any server instance reaches them all.
 */
export interface StepFeed {
  /** Resolves once the listener is up: every change committed after that wakes the watcher. */
  watch(executionId: number, signal?: AbortSignal): Promise<StepWakeups>;
  close(): Promise<void>;
}

const STOPPED = "stopped";

/** As often as the SSE ping: a quiet stream re-checks its access at least this often. */
export const RECHECK_INTERVAL_MS = 15_000;

export function createStepFeed(
  database: Pick<DatabaseHandle, "listen">,
  log: Logger,
  options: { recheckIntervalMs?: number } = {},
): StepFeed {
  const recheckIntervalMs = options.recheckIntervalMs ?? RECHECK_INTERVAL_MS;
  const changes = new EventEmitter();
  changes.setMaxListeners(0);
  let listening: Promise<() => Promise<void>> | undefined;
  let closed = false;

  const wakeEveryone = () => {
    for (const name of changes.eventNames()) if (name !== STOPPED) changes.emit(name);
  };
  // Started at the first subscriber, so an instance nobody watches holds no extra connection.
  const start = () => {
    listening ??= listenForSteps(
      database,
      (executionId) => changes.emit(String(executionId)),
      // After a reconnect, changes may have been missed: every subscriber reads again.
      () => {
        log.debug("listening for step notifications");
        wakeEveryone();
      },
    ).catch((error: unknown) => {
      listening = undefined;
      throw error;
    });
    return listening;
  };

  return {
    async watch(executionId, signal) {
      if (closed) throw new Error("the step feed is closed");
      await start();
      return wakeups(changes, String(executionId), recheckIntervalMs, signal);
    },
    async close() {
      closed = true;
      changes.emit(STOPPED);
      const stop = await listening?.catch(() => undefined);
      listening = undefined;
      await stop?.();
    },
  };
}

function wakeups(
  changes: EventEmitter,
  event: string,
  recheckIntervalMs: number,
  signal?: AbortSignal,
): StepWakeups {
  let changed = false;
  let stopped = false;
  let wake: ((changed: boolean) => void) | undefined;
  let recheck: NodeJS.Timeout | undefined;
  const onChange = () => {
    changed = true;
    settle();
  };
  const onStop = () => {
    stopped = true;
    settle();
  };
  function settle() {
    const resolve = wake;
    wake = undefined;
    clearTimeout(recheck);
    if (!resolve) return;
    if (stopped) return resolve(false);
    changed = false;
    resolve(true);
  }
  changes.on(event, onChange);
  changes.once(STOPPED, onStop);
  signal?.addEventListener("abort", onStop, { once: true });
  if (signal?.aborted) stopped = true;
  return {
    next() {
      if (stopped) return Promise.resolve(false);
      if (changed) {
        changed = false;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        wake = resolve;
        recheck = setTimeout(onChange, recheckIntervalMs);
      });
    },
    close() {
      changes.off(event, onChange);
      changes.off(STOPPED, onStop);
      signal?.removeEventListener("abort", onStop);
      onStop();
    },
  };
}

/**
 * The events of `execution.onSteps`: the execution's summary and the steps stored since the
 * last event, each tracked by the step cursor so a resumed connection continues where it left
 * off. Re-reads on every notification and at every re-check interval, each time as whoever the
 * token names now: a token revoked or expired ends the stream with UNAUTHORIZED, an execution
 * deleted or no longer visible with NOT_FOUND. Ends once the execution is finished.
 */
export async function* executionStepEvents(
  deps: { db: Database; stepFeed: StepFeed },
  currentActor: () => Promise<Actor>,
  input: z.output<typeof watchStepsInput>,
  signal?: AbortSignal,
) {
  const changes = await deps.stepFeed.watch(input.executionId, signal);
  try {
    let cursor = input.lastEventId ?? 0;
    let lastSummary: string | undefined;
    while (true) {
      const actor = await currentActor();
      const since = await executionStepsSince(deps.db, actor, input.executionId, cursor);
      const summary = JSON.stringify(since.execution);
      if (since.steps.length > 0 || summary !== lastSummary) {
        yield tracked(String(since.cursor), { execution: since.execution, steps: since.steps });
      }
      cursor = since.cursor;
      lastSummary = summary;
      if (isTerminal(since.execution.status) || !(await changes.next())) return;
    }
  } finally {
    changes.close();
  }
}
