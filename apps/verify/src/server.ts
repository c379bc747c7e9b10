import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const SERVER_DIR = join(repoRoot, "apps/server");

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;
const OUTPUT_LINES_KEPT = 40;

export interface AdminCredentials {
  email: string;
  password: string;
}

export interface ServerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Whether it exited by itself after SIGTERM, rather than being killed. */
  stoppedBySigterm: boolean;
  dataDirRemoved: boolean;
}

export interface LocalServer {
  url: string;
  admin: AdminCredentials;
  dataDir: string;
  /** Sends SIGTERM, waits for the process to exit (SIGKILL after a while) and removes the data folder. */
  stop(): Promise<ServerExit>;
  /** The last lines the server printed, for error messages. */
  recentOutput(): string;
}

export interface LocalServerOptions {
  /** Run on this PostgreSQL database instead of a fresh embedded one. */
  databaseUrl?: string;
}

/**
 * Starts the server as `pnpm start` does (bundles it, then `node dist/main.js` in apps/server: one
 * process, so SIGTERM reaches it directly) as a child process on a free port with a fresh data folder
 * and a generated admin, and resolves once GET /healthz answers 200.
 */
export async function startLocalServer(options: LocalServerOptions = {}): Promise<LocalServer> {
  const port = await freePort();
  const dataDir = await mkdtemp(join(tmpdir(), "testtrack-verify-"));
  const admin = generateAdmin();
  await buildServer();
  const child = spawn(process.execPath, ["--enable-source-maps", "dist/main.js"], {
    cwd: SERVER_DIR,
    env: serverEnvironment({ port, dataDir, admin, databaseUrl: options.databaseUrl }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const recentOutput = keepRecentOutput(child);
  const url = `http://127.0.0.1:${port}`;
  let stopping: Promise<ServerExit> | undefined;
  const stop = () => {
    stopping ??= stopServer(child, dataDir);
    return stopping;
  };
  try {
    await waitForHealth(url, child);
  } catch (error) {
    await stop();
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`the server did not start: ${reason}\n${recentOutput()}`);
  }
  return { url, admin, dataDir, stop, recentOutput };
}

let built: Promise<unknown> | undefined;

/** Bundles apps/server into dist/main.js, as `pnpm start` does first: once per process. */
function buildServer() {
  built ??= promisify(execFile)(process.execPath, ["scripts/build.mjs"], { cwd: SERVER_DIR });
  return built;
}

function generateAdmin(): AdminCredentials {
  const id = randomBytes(4).toString("hex");
  return {
    email: `verify-admin-${id}@example.com`,
    password: randomBytes(18).toString("base64url"),
  };
}

function serverEnvironment(settings: {
  port: number;
  dataDir: string;
  admin: AdminCredentials;
  databaseUrl: string | undefined;
}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  return {
    ...inherited,
    PORT: String(settings.port),
    HOST: "127.0.0.1",
    TESTTRACK_DATA_DIR: settings.dataDir,
    TESTTRACK_ADMIN_EMAIL: settings.admin.email,
    TESTTRACK_ADMIN_PASSWORD: settings.admin.password,
    LOG_LEVEL: "warn",
    ...(settings.databaseUrl ? { DATABASE_URL: settings.databaseUrl } : {}),
  };
}

/** A port nothing listens on right now (the OS picks it). */
function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

function keepRecentOutput(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - OUTPUT_LINES_KEPT));
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => lines.map((line) => `  | ${line}`).join("\n");
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`it exited with code ${child.exitCode}`);
    if (await isHealthy(url)) return;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`GET ${url}/healthz did not answer 200 within ${START_TIMEOUT_MS / 1000} s`);
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

async function stopServer(child: ChildProcess, dataDir: string): Promise<ServerExit> {
  const exited = new Promise<void>((done) => {
    if (hasExited(child)) done();
    else child.once("exit", () => done());
  });
  let stoppedBySigterm = false;
  if (!hasExited(child)) {
    child.kill("SIGTERM");
    stoppedBySigterm = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((timeUp) => setTimeout(() => timeUp(false), STOP_TIMEOUT_MS).unref()),
    ]);
    if (!stoppedBySigterm) {
      child.kill("SIGKILL");
      await exited;
    }
  }
  const dataDirRemoved = await removeFolder(dataDir);
  return { code: child.exitCode, signal: child.signalCode, stoppedBySigterm, dataDirRemoved };
}

async function removeFolder(path: string): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 3 });
    return true;
  } catch {
    return false;
  }
}
