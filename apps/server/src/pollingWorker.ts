import type { Logger } from "pino";

export interface PollingWorker {
  /** Stops claiming; resolves when the items in hand are handled. */
  stop(): Promise<void>;
  /** Handles everything due now (tests; the loop does this every pollMs); resolves with the count. */
  drain(): Promise<number>;
}

/**
 * An outbox worker: every `pollMs`, claims up to `batchSize` due items (the claim is the
 * caller's, e.g. FOR UPDATE SKIP LOCKED, so any number of instances may run one), handles them
 * at once, and claims again straight away while batches come back full. Never throws: a failed
 * pass is logged and the next one comes at the next poll. `handle` answering false is not counted.
 */
export function startPollingWorker<T>(
  options: {
    name: string;
    pollMs: number;
    batchSize: number;
    claim: (limit: number) => Promise<T[]>;
    handle: (item: T) => Promise<unknown>;
  },
  log: Logger,
): PollingWorker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<number> = Promise.resolve(0);

  const pass = async (): Promise<number> => {
    let handled = 0;
    for (;;) {
      const claimed = await options.claim(options.batchSize);
      const results = await Promise.all(claimed.map(options.handle));
      handled += results.filter((result) => result !== false).length;
      if (claimed.length < options.batchSize || stopped) return handled;
    }
  };

  const schedule = () => {
    timer = setTimeout(loop, options.pollMs);
    timer.unref();
  };
  const loop = () => {
    if (stopped) return;
    current = pass().catch((error: unknown) => {
      log.error({ err: error }, `${options.name} failed`);
      return 0;
    });
    void current.then(() => {
      if (!stopped) schedule();
    });
  };
  schedule();

  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await current;
    },
    drain: async () => {
      await current;
      current = pass();
      return current;
    },
  };
}
