import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
  ConflictError,
  countUsers,
  createLocalDiskStore,
  createS3Store,
  createUser,
  type DatabaseHandle,
  deleteUserByEmail,
  type EmbeddedPostgres,
  failStuckExecutions,
  findUserByEmail,
  openDatabase,
  timeOutQuietRuns,
} from "@testtrack/core";
import type { Logger } from "pino";
import { startArtifactDeletionWorker } from "./artifactDeletionWorker";
import type { Config } from "./config";
import { DEFAULT_DASHBOARD_DIR } from "./dashboard";
import { createHttpHost } from "./http";
import { startRetentionWorker } from "./retentionWorker";
import { createLogger, startEmbedded } from "./startup";
import { startWebhookWorker } from "./webhookWorker";

export interface RunningServer {
  url: string;
  database: DatabaseHandle;
  /** Where the data lives: "PostgreSQL" (DATABASE_URL) or the embedded server's folder. */
  databaseDescription: string;
  /** Credentials generated at first start, shown once; undefined otherwise. */
  generatedAdmin?: { email: string; password: string };
  close(): Promise<void>;
}

/**
 * Opens the database (DATABASE_URL, or an embedded PostgreSQL in the data folder), migrates it,
 * makes sure an admin exists, starts the sweeper, listens. `starting`: the embedded PostgreSQL
 * when the caller started it already (startEmbedded), as main.ts does.
 */
export async function startServer(
  config: Config,
  log = createLogger(config),
  starting?: Promise<EmbeddedPostgres>,
): Promise<RunningServer> {
  const embedded = config.databaseUrl ? undefined : await (starting ?? startEmbedded(config, log));
  const database = openDatabase({ url: config.databaseUrl ?? (embedded as EmbeddedPostgres).url });
  const { s3 } = config.artifacts;
  const artifactStore = s3
    ? await createS3Store(s3)
    : createLocalDiskStore(join(config.dataDir, "artifacts"));
  const host = createHttpHost(
    {
      ...config,
      dashboardDir: DEFAULT_DASHBOARD_DIR,
      artifacts: { ...config.artifacts, store: artifactStore },
    },
    database,
    log,
  );
  const closeDatabase = async () => {
    await database.close().catch(() => {});
    await embedded?.stop();
  };
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
    const retention = startRetentionWorker(
      database,
      { intervalMs: config.retentionIntervalMs, retentionDays: config.retentionDays },
      log,
    );
    const artifactDeletions = startArtifactDeletionWorker(database.db, artifactStore, log);
    const webhooks = startWebhookWorker(
      database,
      { ...config.webhooks, dashboardUrl: config.publicUrl ?? url },
      log,
    );
    return {
      url,
      database,
      databaseDescription: embedded
        ? `embedded PostgreSQL in ${config.dataDir} at ${withoutPassword(embedded.url)}, password in ${join(config.dataDir, "postgres-password")}`
        : "PostgreSQL (DATABASE_URL)",
      generatedAdmin,
      close: async () => {
        // The listener first, at once: new connections are refused from the signal on, while
        // in-flight requests finish and the workers end a pass they are in (a retention pass may
        // take a while); the database closes after both.
        const hostClosed = host.close();
        clearInterval(sweeper);
        await Promise.all([retention.stop(), webhooks.stop(), artifactDeletions.stop()]);
        await hostClosed;
        await closeDatabase();
      },
    };
  } catch (error) {
    await host.close();
    await closeDatabase();
    throw error;
  }
}

/** A URL fit to print: psql and other tools can reach the embedded database through it. */
function withoutPassword(url: string): string {
  const printable = new URL(url);
  printable.password = "";
  return printable.toString();
}

async function ensureAdmin(database: DatabaseHandle, config: Config) {
  const { db } = database;
  if (config.admin) {
    if (!(await findUserByEmail(db, config.admin.email))) {
      await createUnlessRaced(database, { ...config.admin, name: "Administrator", role: "admin" });
    }
    return undefined;
  }
  if ((await countUsers(db)) > 0) return undefined;
  const generated = {
    email: "admin@testtrack.local",
    password: randomBytes(18).toString("base64url"),
  };
  const created = await createUnlessRaced(database, {
    ...generated,
    name: "Administrator",
    role: "admin",
  });
  return created ? generated : undefined;
}

/**
 * Creates the admin; false when another instance starting at the same moment created it first
 * (that one shows the generated credentials).
 */
async function createUnlessRaced(
  database: DatabaseHandle,
  input: Parameters<typeof createUser>[1],
): Promise<boolean> {
  try {
    await createUser(database.db, input);
    return true;
  } catch (error) {
    if (error instanceof ConflictError) return false;
    throw error;
  }
}

function startSweeper(database: DatabaseHandle, config: Config, log: Logger) {
  // One sweep after the other: they lock runs and executions in different orders.
  const sweep = async () => {
    const cutoff = new Date(Date.now() - config.stuckAfterMs);
    await failStuckExecutions(database.db, cutoff)
      .then((ids) => {
        if (ids.length > 0) log.warn({ executionIds: ids }, "marked stuck executions as failed");
      })
      .catch((error: unknown) => log.error({ err: error }, "stuck-execution sweep failed"));
    await timeOutQuietRuns(database.db, new Date(Date.now() - config.runTimeoutMs))
      .then((ids) => {
        if (ids.length > 0) log.warn({ runIds: ids }, "marked quiet runs as timed out");
      })
      .catch((error: unknown) => log.error({ err: error }, "run timeout sweep failed"));
  };
  const timer = setInterval(() => {
    void sweep();
  }, config.sweepIntervalMs);
  timer.unref();
  return timer;
}
