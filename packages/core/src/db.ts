import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema";

export type Schema = typeof schema;
/** A drizzle handle or a transaction on either engine: domain functions accept both. */
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

/** The rows of a raw query: postgres.js answers an array of rows, PGlite `{ rows }`. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] } | T[];
  return Array.isArray(result) ? result : result.rows;
}

export const migrationsFolder = fileURLToPath(new URL("../drizzle", import.meta.url));

export interface OpenDatabaseOptions {
  /** A PostgreSQL URL; when absent, an embedded PGlite is opened. */
  url?: string;
  /** PGlite data folder; when absent (and no url), PGlite runs in memory. */
  dataDir?: string;
  /** Connection pool size for PostgreSQL. */
  maxConnections?: number;
  /** An already open PGlite (e.g. a clone of a migrated template), used as is. */
  pglite?: PGlite;
}

export interface DatabaseHandle {
  db: Database;
  engine: "postgres" | "pglite";
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

export function openDatabase(options: OpenDatabaseOptions = {}): DatabaseHandle {
  if (options.url) return openPostgres(options.url, options.maxConnections ?? 10);
  return openPglite(options);
}

function openPostgres(url: string, max: number): DatabaseHandle {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    connect_timeout: 10,
    // Dates travel as timestamptz; keep numeric counts as JS numbers.
    types: { bigint: postgres.BigInt },
  });
  const db = drizzlePostgres(client, { schema }) as unknown as Database;
  return {
    db,
    engine: "postgres",
    migrate: () => migratePostgres(drizzlePostgres(client, { schema }), { migrationsFolder }),
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

function openPglite(options: OpenDatabaseOptions): DatabaseHandle {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const client = options.pglite ?? new PGlite(options.dataDir);
  const db = drizzlePglite(client, { schema }) as unknown as Database;
  return {
    db,
    engine: "pglite",
    migrate: () => migratePglite(drizzlePglite(client, { schema }), { migrationsFolder }),
    ping: async () => {
      await client.query("select 1");
    },
    listen: async (channel, onNotify, onListen) => {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return () => unlisten();
    },
    close: () => client.close(),
  };
}
