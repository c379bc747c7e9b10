import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import type { ReadReplicaSettings } from "./readReplica";

const port = z.coerce.number().int().min(0).max(65_535);
const positiveInt = z.coerce.number().int().positive();

const configSchema = z
  .object({
    DATABASE_URL: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    DATABASE_READ_URL: z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    TESTTRACK_READ_MAX_LAG_MS: positiveInt.default(2000),
    TESTTRACK_DATA_DIR: z.string().trim().min(1).optional(),
    TESTTRACK_EMBEDDED_TEMPLATE: z.string().trim().min(1).optional(),
    PORT: port.default(3000),
    HOST: z.string().trim().min(1).default("127.0.0.1"),
    TESTTRACK_ADMIN_EMAIL: z.email().optional(),
    TESTTRACK_ADMIN_PASSWORD: z.string().min(8, "must be at least 8 characters").optional(),
    LOG_LEVEL: z
      .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
      .default("info"),
    NODE_ENV: z.enum(["production", "development", "test"]).default("production"),
    TESTTRACK_CORS_ORIGINS: z
      .string()
      .default("")
      .transform((value) =>
        value
          .split(",")
          .map((origin) => origin.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.url({ message: "must list origins such as https://qa.example.com" })))
      // Browsers send the bare origin: "https://qa.example.com/" must match it too.
      .transform((origins) => origins.map((origin) => new URL(origin).origin)),
    TESTTRACK_MAX_BODY_BYTES: positiveInt.default(5 * 1024 * 1024),
    TESTTRACK_MAX_BATCH_SIZE: positiveInt.max(1000).default(50),
    TESTTRACK_STUCK_AFTER_MINUTES: z.coerce.number().positive().default(60),
    TESTTRACK_RUN_TIMEOUT_MINUTES: z.coerce.number().positive().default(60),
    TESTTRACK_SWEEP_INTERVAL_SECONDS: z.coerce.number().positive().default(60),
    TESTTRACK_RETENTION_INTERVAL_MINUTES: z.coerce.number().positive().default(60),
    /** Instance-wide: executions older than this many days go, whole step months dropped. */
    TESTTRACK_RETENTION_DAYS: positiveInt.max(36_500).optional(),
    /** Where people open the dashboard: the links in webhook messages. */
    TESTTRACK_PUBLIC_URL: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .optional(),
    TESTTRACK_ARTIFACT_MAX_BYTES: positiveInt.default(200 * 1024 * 1024),
    TESTTRACK_ARTIFACT_MAX_PER_EXECUTION: positiveInt.max(10_000).default(100),
    /** Artifacts in this S3 bucket instead of the data folder. */
    TESTTRACK_S3_BUCKET: z.string().trim().min(3).max(63).optional(),
    TESTTRACK_S3_ENDPOINT: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL" })
      .optional(),
    TESTTRACK_S3_REGION: z.string().trim().min(1).optional(),
    TESTTRACK_S3_FORCE_PATH_STYLE: z.enum(["0", "1", "true", "false"]).optional(),
    TESTTRACK_WEBHOOK_ALLOW_PRIVATE: z.enum(["0", "1"]).default("0"),
    TESTTRACK_WEBHOOK_POLL_MS: positiveInt.default(1000),
    TESTTRACK_WEBHOOK_CLAIM_SECONDS: z.coerce.number().positive().default(60),
    TESTTRACK_WEBHOOK_RETRY_SECONDS: z
      .string()
      .default("60,300,1800,7200,21600")
      .transform((value) => value.split(",").map((part) => Number(part.trim())))
      .pipe(z.array(z.number().positive("must list positive numbers of seconds")).min(1).max(20)),
  })
  .refine((c) => !c.DATABASE_READ_URL || c.DATABASE_URL, {
    path: ["DATABASE_READ_URL"],
    message: "needs DATABASE_URL: a replica of the embedded database is not supported",
  })
  .refine((c) => !c.TESTTRACK_ADMIN_PASSWORD || c.TESTTRACK_ADMIN_EMAIL, {
    path: ["TESTTRACK_ADMIN_EMAIL"],
    message: "is required when TESTTRACK_ADMIN_PASSWORD is set",
  })
  .refine((c) => !c.TESTTRACK_ADMIN_EMAIL || c.TESTTRACK_ADMIN_PASSWORD, {
    path: ["TESTTRACK_ADMIN_PASSWORD"],
    message: "is required when TESTTRACK_ADMIN_EMAIL is set",
  });

/**
 * The embedded PostgreSQL's template (prepareEmbeddedTemplate): a migrated cluster that
 * `pnpm install` makes (src/prepareEmbedded.ts) and a first start copies instead of running
 * initdb and every migration.
 */
export const EMBEDDED_TEMPLATE_DIR = fileURLToPath(
  new URL("../../../node_modules/.cache/testtrack/embedded-postgres", import.meta.url),
);

export interface Config {
  databaseUrl: string | undefined;
  /**
   * A streaming replica for lists, statistics, health and compare (DATABASE_READ_URL), read
   * while it is within `maxLagMs` of the primary; a token that wrote within `maxLagMs` reads
   * from the primary.
   */
  readReplica: ReadReplicaSettings | undefined;
  dataDir: string;
  /**
   * The migrated cluster a first start of the embedded PostgreSQL copies instead of running
   * initdb (TESTTRACK_EMBEDDED_TEMPLATE, `none` for none; `pnpm install` makes the default one).
   */
  embeddedTemplate: string | undefined;
  port: number;
  host: string;
  admin: { email: string; password: string } | undefined;
  logLevel: z.output<typeof configSchema>["LOG_LEVEL"];
  /** Development mode puts stack traces into error answers; production never does. */
  development: boolean;
  corsOrigins: string[];
  maxBodyBytes: number;
  maxBatchSize: number;
  stuckAfterMs: number;
  /** A run with no activity for this long is marked timed_out by the sweeper. */
  runTimeoutMs: number;
  sweepIntervalMs: number;
  /** How often projects' retentionDays are applied (TESTTRACK_RETENTION_INTERVAL_MINUTES). */
  retentionIntervalMs: number;
  /** TESTTRACK_RETENTION_DAYS: the instance-wide horizon in days; null keeps everything. */
  retentionDays: number | null;
  /** The dashboard's address in webhook messages (default: the server's own). */
  publicUrl: string | undefined;
  artifacts: {
    /** Largest file an upload may send (TESTTRACK_ARTIFACT_MAX_BYTES). */
    maxBytes: number;
    maxPerExecution: number;
    /** Where the bytes go: S3 when TESTTRACK_S3_BUCKET is set (credentials: the AWS variables). */
    s3: { bucket: string; endpoint?: string; region?: string; forcePathStyle: boolean } | undefined;
  };
  webhooks: {
    /** Send to loopback and private addresses too (tests, receivers on the same network). */
    allowPrivate: boolean;
    pollMs: number;
    claimMs: number;
    retryDelaysMs: number[];
  };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates every setting at once; a bad value names its variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Blank counts as unset: a PORT of " " must not coerce to 0 (a random port).
  const blanksRemoved = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""),
  );
  const parsed = configSchema.safeParse(blanksRemoved);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".")}: ${issue.message}`,
    );
    throw new ConfigError(`invalid configuration:\n${problems.join("\n")}`);
  }
  const c = parsed.data;
  const workingDir = env.INIT_CWD ?? process.cwd();
  return {
    databaseUrl: c.DATABASE_URL,
    readReplica: c.DATABASE_READ_URL
      ? { url: c.DATABASE_READ_URL, maxLagMs: c.TESTTRACK_READ_MAX_LAG_MS, probeIntervalMs: 250 }
      : undefined,
    dataDir: resolve(workingDir, c.TESTTRACK_DATA_DIR ?? ".testtrack-data"),
    embeddedTemplate:
      c.TESTTRACK_EMBEDDED_TEMPLATE === "none"
        ? undefined
        : resolve(workingDir, c.TESTTRACK_EMBEDDED_TEMPLATE ?? EMBEDDED_TEMPLATE_DIR),
    port: c.PORT,
    host: c.HOST,
    admin:
      c.TESTTRACK_ADMIN_EMAIL && c.TESTTRACK_ADMIN_PASSWORD
        ? { email: c.TESTTRACK_ADMIN_EMAIL, password: c.TESTTRACK_ADMIN_PASSWORD }
        : undefined,
    logLevel: c.LOG_LEVEL,
    development: c.NODE_ENV === "development",
    corsOrigins: c.TESTTRACK_CORS_ORIGINS,
    maxBodyBytes: c.TESTTRACK_MAX_BODY_BYTES,
    maxBatchSize: c.TESTTRACK_MAX_BATCH_SIZE,
    stuckAfterMs: c.TESTTRACK_STUCK_AFTER_MINUTES * 60_000,
    runTimeoutMs: c.TESTTRACK_RUN_TIMEOUT_MINUTES * 60_000,
    sweepIntervalMs: c.TESTTRACK_SWEEP_INTERVAL_SECONDS * 1000,
    retentionIntervalMs: c.TESTTRACK_RETENTION_INTERVAL_MINUTES * 60_000,
    retentionDays: c.TESTTRACK_RETENTION_DAYS ?? null,
    publicUrl: c.TESTTRACK_PUBLIC_URL,
    artifacts: {
      maxBytes: c.TESTTRACK_ARTIFACT_MAX_BYTES,
      maxPerExecution: c.TESTTRACK_ARTIFACT_MAX_PER_EXECUTION,
      s3: c.TESTTRACK_S3_BUCKET
        ? {
            bucket: c.TESTTRACK_S3_BUCKET,
            endpoint: c.TESTTRACK_S3_ENDPOINT,
            region: c.TESTTRACK_S3_REGION ?? env.AWS_REGION,
            forcePathStyle: ["1", "true"].includes(c.TESTTRACK_S3_FORCE_PATH_STYLE ?? ""),
          }
        : undefined,
    },
    webhooks: {
      allowPrivate: c.TESTTRACK_WEBHOOK_ALLOW_PRIVATE === "1",
      pollMs: c.TESTTRACK_WEBHOOK_POLL_MS,
      claimMs: c.TESTTRACK_WEBHOOK_CLAIM_SECONDS * 1000,
      retryDelaysMs: c.TESTTRACK_WEBHOOK_RETRY_SECONDS.map((seconds) => seconds * 1000),
    },
  };
}
