// What the server needs before the rest of it loads: the logger and the embedded PostgreSQL.
// main.ts starts the database from here and then imports the server, so initdb and PostgreSQL's
// start (their own processes) overlap the loading of the server's modules.
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@testtrack/core/embedded";
import pino, { type Logger } from "pino";
import type { Config } from "./config";

export function createLogger(config: Pick<Config, "logLevel">): Logger {
  return pino({
    level: config.logLevel,
    redact: ["req.headers.authorization", "*.password", "*.token"],
  });
}

/** PostgreSQL's own log goes to ours: its warnings and errors as warnings, the rest as debug. */
export function startEmbedded(
  config: Pick<Config, "dataDir" | "embeddedTemplate">,
  log: Logger,
): Promise<EmbeddedPostgres> {
  return startEmbeddedPostgres({
    dataDir: config.dataDir,
    template: config.embeddedTemplate,
    onLog: (line) => {
      if (!line.trim()) return;
      if (/\b(WARNING|ERROR|FATAL|PANIC):/.test(line))
        log.warn({ postgres: line }, "embedded PostgreSQL");
      else log.debug({ postgres: line }, "embedded PostgreSQL");
    },
  });
}
