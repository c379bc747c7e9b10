import { randomBytes } from "node:crypto";
import { testDatabaseUrl } from "@testtrack/core/testing";
import postgres from "postgres";
import { expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/app";
import { loadConfig } from "../src/config";
import { createClient, silentLog } from "./fixtures";

it("starts three instances at the same moment on a new database: one migrates and makes the admin, all serve", async () => {
  const name = `testtrack_instances_${randomBytes(6).toString("hex")}`;
  const admin = postgres(testDatabaseUrl("postgres"), { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const config = loadConfig({
    PORT: "0",
    LOG_LEVEL: "silent",
    DATABASE_URL: testDatabaseUrl(name),
  });
  const started = await Promise.allSettled([1, 2, 3].map(() => startServer(config, silentLog)));
  const servers = started.flatMap((outcome) =>
    outcome.status === "fulfilled" ? [outcome.value] : [],
  );
  try {
    expect(started.map((outcome) => outcome.status)).toEqual([
      "fulfilled",
      "fulfilled",
      "fulfilled",
    ]);
    const generated = servers.flatMap((server: RunningServer) => server.generatedAdmin ?? []);
    expect(generated).toHaveLength(1);
    const [credentials] = generated;
    if (!credentials) throw new Error("no instance generated the admin");
    for (const server of servers) {
      const session = await createClient(`${server.url}/trpc`).auth.login.mutate(credentials);
      expect(session.user.role).toBe("admin");
    }
  } finally {
    for (const server of servers) await server.close();
    await admin.unsafe(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
});
