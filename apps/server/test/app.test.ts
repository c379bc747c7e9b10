import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TEST_PASSWORD } from "@testtrack/core/testing";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/app";
import { type Config, loadConfig } from "../src/config";
import { createClient, createTestPrincipal, silentLog } from "./fixtures";

let scratch: string;

/** Where a fresh server keeps its data: no DATABASE_URL, so an embedded PostgreSQL in a new folder. */
async function freshStorage(): Promise<Pick<Config, "databaseUrl" | "dataDir">> {
  return { databaseUrl: undefined, dataDir: await mkdtemp(join(scratch, "data-")) };
}

function serverConfig(
  storage: Pick<Config, "databaseUrl" | "dataDir">,
  overrides: Partial<Config> = {},
): Config {
  return { ...loadConfig({ PORT: "0", LOG_LEVEL: "silent" }), ...storage, ...overrides };
}

async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * The first start on fresh storage: no user yet, and a sweeper that calls a run stuck after
 * 300 ms. Before it, a start on the same storage fails because its port is taken.
 */
let first: RunningServer;
let firstStorage: Pick<Config, "databaseUrl" | "dataDir">;
let refusedStart: unknown;
const running = new Set<RunningServer>();

async function start(config: Config) {
  const server = await startServer(config, silentLog);
  running.add(server);
  return server;
}

async function stop(server: RunningServer) {
  running.delete(server);
  await server.close();
}

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), "testtrack-app-"));
  // As root, the embedded PostgreSQL runs as an unprivileged user, who must pass through it.
  await chmod(scratch, 0o755);
  firstStorage = await freshStorage();
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
  try {
    const address = blocker.address();
    const port = typeof address === "object" && address ? address.port : 0;
    refusedStart = await start(serverConfig(firstStorage, { port })).catch((error) => error);
  } finally {
    blocker.close();
  }
  first = await start(serverConfig(firstStorage, { stuckAfterMs: 300, sweepIntervalMs: 100 }));
});

afterAll(async () => {
  for (const server of running) await server.close();
  await rm(scratch, { recursive: true, force: true });
});

describe("startServer", () => {
  it("refuses to start when its port is taken, and the next start still generates the admin", () => {
    expect(refusedStart).toMatchObject({ code: "EADDRINUSE" });
    expect(first.generatedAdmin).toBeDefined();
  });

  it("generates an admin on first start whose credentials log in over HTTP", async () => {
    const generated = first.generatedAdmin;
    if (!generated) throw new Error("no admin was generated on first start");
    expect(generated.email).toBe("admin@testtrack.local");
    expect(generated.password.length).toBeGreaterThanOrEqual(20);
    const health = await fetch(`${first.url}/healthz`);
    expect(await health.json()).toEqual({ status: "ok", database: "postgres" });
    const session = await createClient(`${first.url}/trpc`).auth.login.mutate(generated);
    expect(session.user).toMatchObject({ email: generated.email, role: "admin" });
    const users = await createClient(`${first.url}/trpc`, session.token).user.list.query();
    expect(users.map((u) => u.email)).toEqual([generated.email]);
  });

  it("fails a running execution with no activity, saying why, and leaves a pending one alone", async () => {
    const member = await createTestPrincipal(first.database);
    const testCase = await member.caller.testCase.create({ title: "Runner crashes mid-way" });
    const stuck = await member.caller.execution.start({ testCaseId: testCase.id });
    await member.caller.execution.update({ id: stuck.executionId, status: "running" });
    const waiting = await member.caller.execution.start({ testCaseId: testCase.id });

    const failed = await waitFor(async () => {
      const execution = await member.caller.execution.get({ id: stuck.executionId });
      return execution.status === "failed" ? execution : undefined;
    }, 10_000);
    expect(failed).toMatchObject({ status: "failed", result: "error" });
    expect(failed.errorMessage).toMatch(/no activity .* while running/);
    expect(failed.completedAt).toBeInstanceOf(Date);
    expect(failed.durationSeconds).toBeGreaterThanOrEqual(0.3);

    const untouched = await member.caller.execution.get({ id: waiting.executionId });
    expect(untouched).toMatchObject({ status: "pending", errorMessage: null, completedAt: null });
  });

  it("does not generate another admin when started again on the same data", async () => {
    const generated = first.generatedAdmin;
    if (!generated) throw new Error("no admin was generated on first start");
    await stop(first);
    const again = await start(serverConfig(firstStorage));
    expect(again.generatedAdmin).toBeUndefined();
    const session = await createClient(`${again.url}/trpc`).auth.login.mutate(generated);
    const admin = createClient(`${again.url}/trpc`, session.token);
    const admins = (await admin.user.list.query()).filter((u) => u.role === "admin");
    expect(admins.map((u) => u.email)).toEqual([generated.email]);
    await stop(again);
  });

  it("creates the configured admin, also on a database that already has users", async () => {
    const configured = { email: "qa-lead@example.com", password: "configured password" };
    const server = await start(serverConfig(firstStorage, { admin: configured }));
    expect(server.generatedAdmin).toBeUndefined();
    const session = await createClient(`${server.url}/trpc`).auth.login.mutate(configured);
    expect(session.user).toMatchObject({ email: configured.email, role: "admin" });
    const users = await createClient(`${server.url}/trpc`, session.token).user.list.query();
    expect(users.filter((u) => u.role === "admin").map((u) => u.email)).toEqual([
      "admin@testtrack.local",
      configured.email,
    ]);
    await stop(server);
  });
});

/** A port nothing listens on right now. */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("main", () => {
  it("starts from the command line, prints the first admin's credentials and exits 0 on SIGTERM", async () => {
    const storage = await freshStorage();
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (!/^(DATABASE_URL|PORT|HOST|TESTTRACK_|LOG_LEVEL|NODE_ENV)/.test(name)) env[name] = value;
    }
    Object.assign(env, {
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      NODE_ENV: "production",
      TESTTRACK_DATA_DIR: storage.dataDir,
      ...(storage.databaseUrl ? { DATABASE_URL: storage.databaseUrl } : {}),
    });
    // node --import tsx, not the tsx CLI: the CLI relays SIGTERM to a child process within
    // 30 ms or kills it, which makes the exit code depend on machine load.
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: join(import.meta.dirname, ".."),
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString();
    });
    try {
      const url = `http://127.0.0.1:${port}`;
      // Listening comes before the admin is made, so wait for the printed lines as well.
      await waitFor(async () => {
        if (child.exitCode !== null) throw new Error(`main exited early:\n${output}`);
        const response = await fetch(`${url}/healthz`).catch(() => undefined);
        return response?.ok && output.includes("password:") ? true : undefined;
      }, 60_000).catch((error: unknown) => {
        throw new Error(`${String(error)}\noutput so far:\n${output}`);
      });
      expect(output).toContain(`TestTrack listening on ${url}`);
      const email = /email:\s+(\S+)/.exec(output)?.[1];
      const password = /password:\s+(\S+)/.exec(output)?.[1];
      if (!email || !password) throw new Error(`no credentials printed:\n${output}`);
      const session = await createClient(`${url}/trpc`).auth.login.mutate({ email, password });
      expect(session.user.role).toBe("admin");
      expect(password).not.toBe(TEST_PASSWORD);

      expect(output).toContain(
        `database: embedded PostgreSQL in ${storage.dataDir} at postgres://postgres@127.0.0.1:`,
      );
      // The URL printed, with the password from the file it names, opens the database.
      const printed = /at (postgres:\/\/\S+), password in (\S+)\)/.exec(output);
      expect(printed, output).not.toBeNull();
      const databaseUrl = new URL(printed?.[1] ?? "");
      databaseUrl.password = readFileSync(printed?.[2] ?? "", "utf8").trim();
      const psql = postgres(databaseUrl.toString(), { max: 1, onnotice: () => {} });
      expect(await psql`select count(*)::int as n from users`).toEqual([{ n: 1 }]);
      await psql.end();

      child.kill("SIGTERM");
      expect(await exitOf(child)).toBe(0);
      expect(output).toContain("SIGTERM received");
      // PostgreSQL stopped with it: a clean shutdown removes its pid file.
      expect(existsSync(join(storage.dataDir, "postgres", "postmaster.pid"))).toBe(false);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  }, 90_000);
});
