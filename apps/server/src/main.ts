import { EmbeddedPostgresError } from "@testtrack/core/embedded";
import { ConfigError, loadConfig } from "./config";
import { createLogger, startEmbedded } from "./startup";

async function main() {
  const config = loadConfig();
  const log = createLogger(config);
  // The embedded PostgreSQL first: initdb (about 1 s on a first start) and the postmaster run in
  // their own processes while this one loads the server's modules (about 0.6 s).
  const embedded = config.databaseUrl ? undefined : startEmbedded(config, log);
  // Awaited by startServer; until then a failure must not count as an unhandled rejection.
  embedded?.catch(() => {});
  const { startServer } = await import("./app");
  const server = await startServer(config, log, embedded);
  console.log(
    `TestTrack listening on ${server.url} (tRPC at ${server.url}/trpc, database: ${server.databaseDescription})`,
  );
  if (server.generatedAdmin) {
    console.log(
      [
        "",
        "  First start: an admin account was created. These credentials are shown only once:",
        `    email:    ${server.generatedAdmin.email}`,
        `    password: ${server.generatedAdmin.password}`,
        "",
      ].join("\n"),
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received: finishing in-flight requests, then stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error("shutdown failed:", error);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

main().catch((error: unknown) => {
  // Problems a person can fix (a bad setting, an unusable data folder) print as their message.
  const actionable = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  console.error(actionable ? error.message : error);
  process.exit(1);
});
