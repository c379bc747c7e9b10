import { fileURLToPath } from "node:url";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
/** A drizzle handle or a transaction: domain functions accept both. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** The rows of a raw query (postgres.js answers an array of rows; other drivers `{ rows }`). */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] } | T[];
  return Array.isArray(result) ? result : result.rows;
}

/** The advisory lock that serialises migrations between instances (the bytes of "testtrak"). */
const MIGRATION_LOCK = "8387236825054470507";

export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL: DATABASE_URL, or the embedded server's (startEmbeddedPostgres). */
  url: string;
  /** Connection pool size. */
  maxConnections?: number;
}

export interface DatabaseHandle {
  db: Database;
  engine: "postgres";
  migrate(): Promise<void>;
  /** Runs a trivial query; throws when the database cannot answer. */
  ping(): Promise<void>;
  /**
   * LISTENs on a channel: `onNotify` gets each NOTIFY payload, `onListen` runs whenever the
   * listener is (re)established (notifications sent while it was down are lost). Resolves, once
   * listening, with a function that stops.
   */
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

export function openDatabase(options: OpenDatabaseOptions): DatabaseHandle {
  const { url, maxConnections: max = 10 } = options;
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    // Every query here is short: JIT compilation (on by default where PostgreSQL has LLVM) cost
    // run.compare of a 10,000-test run 44 ms of 330 once its estimate crossed jit_above_cost.
    // DateStyle ISO whatever the server's default: the partition key as text names a step partition
    // (partitionKeyOf, partitionOf) and must read back as the same instant.
    connection: { jit: "off", DateStyle: "ISO" },
    // Dates travel as timestamptz; keep numeric counts as JS numbers.
    types: { bigint: postgres.BigInt },
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    db,
    engine: "postgres",
    migrate: async () => {
      // Instances started together on a new database: one migrates, the others wait for it and
      // then find nothing to do. The lock is held by a session of its own; ending it releases it.
      const lock = postgres(url, { max: 1, onnotice: () => {}, connect_timeout: 10 });
      try {
        await lock`select pg_advisory_lock(${MIGRATION_LOCK}::bigint)`;
        // On the lock's own connection, which ends below: the backend that created every table
        // keeps their catalog entries cached (about 10 MB at rest on a first start).
        await migratePostgres(drizzlePostgres(lock, { schema }), { migrationsFolder });
      } finally {
        await lock.end({ timeout: 5 });
      }
    },
    ping: async () => {
      await client`select 1`;
    },
    // postgres.js listens on a dedicated connection and listens again after it reconnects.
    listen: async (channel, onNotify, onListen) => {
      const { unlisten } = await client.listen(channel, onNotify, onListen);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}
