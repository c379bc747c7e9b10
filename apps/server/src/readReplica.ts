import { createHash } from "node:crypto";
import { type Database, type DatabaseHandle, openDatabase, queryRows } from "@testtrack/core";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";

export interface ReadReplicaSettings {
  /** DATABASE_READ_URL: a streaming replica of the primary. */
  url: string;
  /**
   * A replica further behind the primary than this is not read from; and after a write, the
   * same token reads from the primary for this long, so its reads always include its writes.
   */
  maxLagMs: number;
  /** How often the replica's lag is measured. */
  probeIntervalMs: number;
}

export type ReplicaState = "none" | "unknown" | "up" | "lagging" | "down";

/**
 * Which database a read goes to. Lists, statistics, health and compare read through
 * `readerFor`: the replica while it is reachable and within the lag bound, unless the same token
 * wrote within that bound (then the primary). A replica read at most `maxLagMs` behind holds
 * every write committed `maxLagMs` ago, so a client always sees its own writes.
 */
export interface ReadRouting {
  readerFor(token: string | null): Database;
  /** A token is writing: its reads stay on the primary until `maxLagMs` after this. */
  wrote(token: string | null): void;
  state(): { state: ReplicaState; lagMs: number | null };
  close(): Promise<void>;
}

export function createReadRouting(
  primary: Pick<DatabaseHandle, "db">,
  settings: ReadReplicaSettings | undefined,
  log: Logger,
): ReadRouting {
  if (!settings) {
    return {
      readerFor: () => primary.db,
      wrote: () => {},
      state: () => ({ state: "none", lagMs: null }),
      close: async () => {},
    };
  }
  const replica = openDatabase({ url: settings.url });
  // In this process only: a balancer may send a client's next read to another instance, whose
  // window does not know the write (docs/scaling.md says what that means and how to pin clients).
  const lastWrites = new Map<string, number>();
  let reachable: boolean | undefined;
  // The latest moment at which the replica was known to hold everything the primary had.
  let freshAt = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const keyOf = (token: string) => createHash("sha256").update(token).digest("base64url");
  const lagMs = () => Date.now() - freshAt;

  const probe = async () => {
    const sampledAt = Date.now();
    try {
      const [position] = await queryRows<{ lsn: string }>(
        primary.db,
        sql`select pg_current_wal_lsn()::text as lsn`,
      );
      const [replayed] = await queryRows<{ caught_up: boolean | null }>(
        replica.db,
        sql`select coalesce(pg_last_wal_replay_lsn() >= ${position?.lsn}::pg_lsn,
          not pg_is_in_recovery()) as caught_up`,
      );
      if (reachable === false) log.info("read replica reachable again");
      reachable = true;
      if (replayed?.caught_up) freshAt = sampledAt;
    } catch (error) {
      if (reachable !== false)
        log.warn({ err: error }, "read replica unreachable: reading from the primary");
      reachable = false;
    }
    const forgetBefore = Date.now() - settings.maxLagMs;
    for (const [key, at] of lastWrites) if (at < forgetBefore) lastWrites.delete(key);
  };
  const loop = async () => {
    await probe();
    if (!stopped) timer = setTimeout(loop, settings.probeIntervalMs);
  };
  void loop();

  const replicaUsable = () => reachable === true && lagMs() <= settings.maxLagMs;
  return {
    readerFor(token) {
      if (!replicaUsable()) return primary.db;
      const wroteAt = token ? lastWrites.get(keyOf(token)) : undefined;
      if (wroteAt !== undefined && Date.now() - wroteAt < settings.maxLagMs) {
        return primary.db;
      }
      return replica.db;
    },
    wrote(token) {
      if (token) lastWrites.set(keyOf(token), Date.now());
    },
    state() {
      if (reachable === undefined) return { state: "unknown", lagMs: null };
      if (!reachable) return { state: "down", lagMs: null };
      return { state: replicaUsable() ? "up" : "lagging", lagMs: lagMs() };
    },
    async close() {
      stopped = true;
      clearTimeout(timer);
      await replica.close().catch(() => {});
    },
  };
}
