import { randomBytes } from "node:crypto";
import {
  countUsers,
  createUser,
  type DatabaseHandle,
  deleteUserByEmail,
  failStuckExecutions,
  findUserByEmail,
  openDatabase,
} from "@testtrack/core";
import pino, { type Logger } from "pino";
import type { Config } from "./config";
import { DEFAULT_DASHBOARD_DIR } from "./dashboard";
import { createHttpHost } from "./http";

export interface RunningServer {
  url: string;
  database: DatabaseHandle;
  /** Credentials generated at first start, shown once; undefined otherwise. */
  generatedAdmin?: { email: string; password: string };
  close(): Promise<void>;
}

export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({
    level: config.logLevel,
    redact: ["req.headers.authorization", "*.password", "*.token"],
  });
}

/** Opens the database, migrates it, makes sure an admin exists, starts the sweeper, listens. */
export async function startServer(
  config: Config,
  log = createLogger(config),
): Promise<RunningServer> {
  const database = openDatabase(
    config.databaseUrl ? { url: config.databaseUrl } : { dataDir: config.dataDir },
  );
  const host = createHttpHost({ ...config, dashboardDir: DEFAULT_DASHBOARD_DIR }, database, log);
  try {
    await database.migrate();
    // The admin exists before the first request can arrive; if listening then fails, a
    // generated admin is removed again, since its credentials would never be shown.
    const generatedAdmin = await ensureAdmin(database, config);
    const url = await host.listen().catch(async (error: unknown) => {
      if (generatedAdmin) await deleteUserByEmail(database.db, generatedAdmin.email);
      throw error;
    });
    const sweeper = startSweeper(database, config, log);
    return {
      url,
      database,
      generatedAdmin,
      close: async () => {
        clearInterval(sweeper);
        await host.close();
        await database.close();
      },
    };
  } catch (error) {
    await host.close();
    await database.close().catch(() => {});
    throw error;
  }
}

async function ensureAdmin(database: DatabaseHandle, config: Config) {
  const { db } = database;
  if (config.admin) {
    if (!(await findUserByEmail(db, config.admin.email))) {
      await createUser(db, { ...config.admin, name: "Administrator", role: "admin" });
    }
    return undefined;
  }
  if ((await countUsers(db)) > 0) return undefined;
  const generated = {
    email: "admin@testtrack.local",
    password: randomBytes(18).toString("base64url"),
  };
  await createUser(db, { ...generated, name: "Administrator", role: "admin" });
  return generated;
}

function startSweeper(database: DatabaseHandle, config: Config, log: Logger) {
  const timer = setInterval(() => {
    const cutoff = new Date(Date.now() - config.stuckAfterMs);
    failStuckExecutions(database.db, cutoff)
      .then((ids) => {
        if (ids.length > 0) log.warn({ executionIds: ids }, "marked stuck executions as failed");
      })
      .catch((error: unknown) => log.error({ err: error }, "stuck-execution sweep failed"));
  }, config.sweepIntervalMs);
  timer.unref();
  return timer;
}
