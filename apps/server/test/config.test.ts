import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, EMBEDDED_TEMPLATE_DIR, loadConfig } from "../src/config";

/** The error loadConfig throws for `env`; fails the test when it does not throw. */
function configErrorFor(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error(`expected loadConfig(${JSON.stringify(env)}) to throw`);
}

describe("loadConfig defaults", () => {
  it("starts on 127.0.0.1:3000 with the embedded PostgreSQL and production settings when nothing is set", () => {
    const config = loadConfig({ INIT_CWD: "/srv/testtrack" });
    expect(config).toEqual({
      databaseUrl: undefined,
      dataDir: resolve("/srv/testtrack", ".testtrack-data"),
      embeddedTemplate: EMBEDDED_TEMPLATE_DIR,
      port: 3000,
      host: "127.0.0.1",
      admin: undefined,
      logLevel: "info",
      development: false,
      corsOrigins: [],
      maxBodyBytes: 5 * 1024 * 1024,
      maxBatchSize: 50,
      stuckAfterMs: 60 * 60_000,
      runTimeoutMs: 60 * 60_000,
      sweepIntervalMs: 60_000,
      retentionIntervalMs: 60 * 60_000,
      retentionDays: null,
      readReplica: undefined,
      publicUrl: undefined,
      webhooks: {
        allowPrivate: false,
        pollMs: 1000,
        claimMs: 60_000,
        retryDelaysMs: [60_000, 300_000, 1_800_000, 7_200_000, 21_600_000],
      },
      // Pinned by the artifact tests.
      artifacts: expect.any(Object),
    });
  });

  it("treats blank variables as unset", () => {
    const config = loadConfig({ PORT: "", HOST: " ", DATABASE_URL: "", TESTTRACK_ADMIN_EMAIL: "" });
    expect(config).toMatchObject({ port: 3000, host: "127.0.0.1", databaseUrl: undefined });
    expect(loadConfig({ PORT: "   " }).port).toBe(3000);
  });
});

describe("loadConfig reads", () => {
  it("every variable it knows", () => {
    const config = loadConfig({
      DATABASE_URL: "postgresql://tt@db.internal:5432/testtrack",
      TESTTRACK_DATA_DIR: "/var/lib/testtrack",
      TESTTRACK_EMBEDDED_TEMPLATE: "templates/pg",
      PORT: "0",
      HOST: "0.0.0.0",
      TESTTRACK_ADMIN_EMAIL: "root@example.com",
      TESTTRACK_ADMIN_PASSWORD: "a long password",
      LOG_LEVEL: "warn",
      NODE_ENV: "development",
      TESTTRACK_CORS_ORIGINS: "https://qa.example.com, http://localhost:5173/",
      TESTTRACK_MAX_BODY_BYTES: "1024",
      TESTTRACK_MAX_BATCH_SIZE: "10",
      TESTTRACK_STUCK_AFTER_MINUTES: "0.5",
      TESTTRACK_RUN_TIMEOUT_MINUTES: "90",
      TESTTRACK_SWEEP_INTERVAL_SECONDS: "2",
      TESTTRACK_RETENTION_INTERVAL_MINUTES: "5",
      TESTTRACK_RETENTION_DAYS: "400",
      DATABASE_READ_URL: "postgresql://tt@replica.internal:5432/testtrack",
      TESTTRACK_READ_MAX_LAG_MS: "500",
      TESTTRACK_PUBLIC_URL: "https://qa.example.com",
      TESTTRACK_WEBHOOK_ALLOW_PRIVATE: "1",
      TESTTRACK_WEBHOOK_POLL_MS: "250",
      TESTTRACK_WEBHOOK_CLAIM_SECONDS: "30",
      TESTTRACK_WEBHOOK_RETRY_SECONDS: "1, 2.5",
    });
    expect(config).toEqual({
      databaseUrl: "postgresql://tt@db.internal:5432/testtrack",
      dataDir: "/var/lib/testtrack",
      embeddedTemplate: resolve("templates/pg"),
      port: 0,
      host: "0.0.0.0",
      admin: { email: "root@example.com", password: "a long password" },
      logLevel: "warn",
      development: true,
      corsOrigins: ["https://qa.example.com", "http://localhost:5173"],
      maxBodyBytes: 1024,
      maxBatchSize: 10,
      stuckAfterMs: 30_000,
      runTimeoutMs: 90 * 60_000,
      sweepIntervalMs: 2000,
      retentionIntervalMs: 5 * 60_000,
      retentionDays: 400,
      readReplica: {
        url: "postgresql://tt@replica.internal:5432/testtrack",
        maxLagMs: 500,
        probeIntervalMs: 250,
      },
      publicUrl: "https://qa.example.com",
      webhooks: { allowPrivate: true, pollMs: 250, claimMs: 30_000, retryDelaysMs: [1000, 2500] },
      artifacts: expect.any(Object),
    });
  });

  it("a relative data folder against the directory the command was started from", () => {
    const config = loadConfig({ INIT_CWD: "/home/qa/project", TESTTRACK_DATA_DIR: "data" });
    expect(config.dataDir).toBe(resolve("/home/qa/project", "data"));
  });

  it("no template for the embedded PostgreSQL with TESTTRACK_EMBEDDED_TEMPLATE=none", () => {
    expect(loadConfig({ TESTTRACK_EMBEDDED_TEMPLATE: "none" }).embeddedTemplate).toBeUndefined();
  });
});

describe("loadConfig refuses", () => {
  it.each(["abc", "70000", "-1", "80.5"])("PORT=%s, naming PORT", (value) => {
    expect(configErrorFor({ PORT: value }).message).toMatch(/^invalid configuration:\n {2}PORT: /);
  });

  it.each(["mysql://db/testtrack", "db.internal:5432", "file:///tmp/db"])(
    "DATABASE_URL=%s, naming DATABASE_URL",
    (value) => {
      expect(configErrorFor({ DATABASE_URL: value }).message).toContain(
        "DATABASE_URL: must be a postgres:// or postgresql:// URL",
      );
    },
  );

  it("a read replica without DATABASE_URL, naming DATABASE_READ_URL", () => {
    const error = configErrorFor({ DATABASE_READ_URL: "postgres://replica/testtrack" });
    expect(error.message).toContain(
      "DATABASE_READ_URL: needs DATABASE_URL: a replica of the embedded database is not supported",
    );
  });

  it("an admin email without a password, naming TESTTRACK_ADMIN_PASSWORD", () => {
    const error = configErrorFor({ TESTTRACK_ADMIN_EMAIL: "root@example.com" });
    expect(error.message).toContain(
      "TESTTRACK_ADMIN_PASSWORD: is required when TESTTRACK_ADMIN_EMAIL is set",
    );
  });

  it("an admin password without an email, naming TESTTRACK_ADMIN_EMAIL", () => {
    const error = configErrorFor({ TESTTRACK_ADMIN_PASSWORD: "a long password" });
    expect(error.message).toContain(
      "TESTTRACK_ADMIN_EMAIL: is required when TESTTRACK_ADMIN_PASSWORD is set",
    );
  });

  it("a short admin password and a malformed admin email", () => {
    const error = configErrorFor({
      TESTTRACK_ADMIN_EMAIL: "root",
      TESTTRACK_ADMIN_PASSWORD: "short",
    });
    expect(error.message).toContain("TESTTRACK_ADMIN_EMAIL");
    expect(error.message).toContain("TESTTRACK_ADMIN_PASSWORD: must be at least 8 characters");
  });

  it.each([
    ["LOG_LEVEL", "verbose"],
    ["NODE_ENV", "staging"],
    ["TESTTRACK_CORS_ORIGINS", "qa.example.com"],
    ["TESTTRACK_MAX_BODY_BYTES", "0"],
    ["TESTTRACK_MAX_BATCH_SIZE", "5000"],
    ["TESTTRACK_STUCK_AFTER_MINUTES", "-5"],
    ["TESTTRACK_RUN_TIMEOUT_MINUTES", "0"],
    ["TESTTRACK_SWEEP_INTERVAL_SECONDS", "soon"],
    ["TESTTRACK_RETENTION_INTERVAL_MINUTES", "0"],
    ["TESTTRACK_RETENTION_DAYS", "0"],
    ["TESTTRACK_READ_MAX_LAG_MS", "-1"],
  ])("%s=%s, naming it", (name, value) => {
    expect(configErrorFor({ [name]: value }).message).toMatch(
      new RegExp(`\n  ${name}(\\.\\d+)?: `),
    );
  });

  it("every bad value at once, one line each", () => {
    const error = configErrorFor({ PORT: "x", DATABASE_URL: "mysql://db", LOG_LEVEL: "loud" });
    const lines = error.message.split("\n").slice(1);
    expect(lines.map((line) => line.trim().split(":")[0]).sort()).toEqual([
      "DATABASE_URL",
      "LOG_LEVEL",
      "PORT",
    ]);
    expect(error.name).toBe("ConfigError");
  });
});
