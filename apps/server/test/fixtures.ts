import { createApiToken, type DatabaseHandle, type UserRole } from "@testtrack/core";
import { createTestUser, openTestDatabase, type TestDatabase } from "@testtrack/core/testing";
import pino from "pino";
import { createContext } from "../src/context";
import { createHttpHost } from "../src/http";
import { appRouter } from "../src/router";
import { createCallerFactory } from "../src/trpc";

export const silentLog = pino({ level: "silent" });

const createCaller = createCallerFactory(appRouter);

/** A server-side caller acting with `token` (or anonymously), through the real middleware. */
export function callerWith(handle: Pick<DatabaseHandle, "db">, token: string | null) {
  return createCaller(
    createContext(
      { db: handle.db, log: silentLog, development: false },
      { token, requestId: "test" },
    ),
  );
}

/** A user of the given role with an API token, and a caller acting as them. */
export async function createTestPrincipal(
  handle: Pick<DatabaseHandle, "db">,
  role: UserRole = "member",
) {
  const user = await createTestUser(handle, role);
  const { token } = await createApiToken(handle.db, user.actor, { name: "test" });
  return { ...user, token, caller: callerWith(handle, token) };
}

export interface TestServer {
  url: string;
  trpcUrl: string;
  database: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real HTTP host on a free port over a fresh test database (PGlite, or PostgreSQL when the
 * suite runs on that engine). `close` stops the server and drops the database.
 */
export async function startTestServer(
  options: {
    corsOrigins?: string[];
    maxBodyBytes?: number;
    maxBatchSize?: number;
    development?: boolean;
  } = {},
): Promise<TestServer> {
  const database = await openTestDatabase();
  const host = createHttpHost(
    {
      port: 0,
      host: "127.0.0.1",
      corsOrigins: options.corsOrigins ?? [],
      maxBodyBytes: options.maxBodyBytes ?? 5 * 1024 * 1024,
      maxBatchSize: options.maxBatchSize ?? 50,
      development: options.development ?? false,
    },
    database,
    silentLog,
  );
  const url = await host.listen();
  return {
    url,
    trpcUrl: `${url}/trpc`,
    database,
    close: async () => {
      await host.close();
      await database.close();
    },
  };
}
