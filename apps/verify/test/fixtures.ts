import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import postgres from "postgres";

const VERIFY_DIR = fileURLToPath(new URL("..", import.meta.url));

export interface VerifyRun {
  exitCode: number | null;
  lines: string[];
  /** stdout and stderr together, for assertion messages. */
  output: string;
}

/** Runs `node --import tsx src/main.ts ...args` (what `pnpm verify` runs) and collects its output. */
export function runVerify(args: string[] = []): Promise<VerifyRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts", ...args], {
      cwd: VERIFY_DIR,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (exitCode) =>
      resolve({ exitCode, lines: stdout.split("\n").filter(Boolean), output: stdout + stderr }),
    );
  });
}

/** The `N passed, N failed` closing line, as numbers. */
export function closingTally(run: VerifyRun): { passed: number; failed: number } | undefined {
  const match = /^(\d+) passed, (\d+) failed$/.exec(run.lines.at(-1) ?? "");
  return match ? { passed: Number(match[1]), failed: Number(match[2]) } : undefined;
}

/**
 * One tRPC request as it reaches the proxy: `procedures` lists its procedure paths (several when
 * the client batches), `batch` says whether it uses the batch format (`?batch=1`).
 */
export interface ProxiedCall {
  procedures: string[];
  batch: boolean;
  authorization: string | undefined;
  body: string;
}

export interface ProxiedAnswer {
  status: number;
  body: string;
}

/** Sends the call on to the real server, with another Authorization header if given. */
export type Forward = (authorization?: string) => Promise<ProxiedAnswer>;

/** Decides the answer to one call: forward it, change it, or make one up. */
export type Breakage = (call: ProxiedCall, forward: Forward) => Promise<ProxiedAnswer>;

export interface BreakingProxy {
  url: string;
  close(): Promise<void>;
}

/** An HTTP proxy in front of `target` whose answers pass through `breakage`. */
export async function startBreakingProxy(
  target: string,
  breakage: Breakage,
): Promise<BreakingProxy> {
  const server = createServer((req, res) => {
    proxyRequest(target, breakage, req, res).catch((error: unknown) => {
      res.writeHead(502, { "content-type": "text/plain" });
      res.end(String(error));
    });
  });
  await new Promise<void>((listening) => server.listen(0, "127.0.0.1", listening));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((closed) => server.close(() => closed())),
  };
}

async function proxyRequest(
  target: string,
  breakage: Breakage,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString("utf8");
  const path = req.url ?? "/";
  const call: ProxiedCall = {
    procedures: procedurePaths(path),
    batch: new URL(path, "http://proxy").searchParams.get("batch") === "1",
    authorization: req.headers.authorization,
    body,
  };
  const forward: Forward = async (authorization = call.authorization) => {
    const response = await fetch(`${target}${path}`, {
      method: req.method,
      headers: {
        "content-type": req.headers["content-type"] ?? "application/json",
        ...(authorization ? { authorization } : {}),
      },
      ...(req.method === "GET" || req.method === "HEAD" ? {} : { body }),
    });
    return { status: response.status, body: await response.text() };
  };
  const answer = await breakage(call, forward);
  res.writeHead(answer.status, { "content-type": "application/json" });
  res.end(answer.body);
}

function procedurePaths(url: string): string[] {
  const pathname = new URL(url, "http://proxy").pathname;
  if (!pathname.startsWith("/trpc/")) return [];
  return decodeURIComponent(pathname.slice("/trpc/".length)).split(",");
}

/** The (first) input of a tRPC mutation body: the body itself, or `{"0": input}` batched. */
export function firstInput(call: ProxiedCall): unknown {
  const body = JSON.parse(call.body) as unknown;
  return call.batch ? (body as Record<string, unknown>)["0"] : body;
}

/** A tRPC success answer to `call` carrying `data`, in the call's format. */
export function successAnswer(call: ProxiedCall, data: unknown): ProxiedAnswer {
  const result = { result: { data } };
  return { status: 200, body: JSON.stringify(call.batch ? [result] : result) };
}

/** The data of the (first) result in an answer to `call`. */
export function answerData<T>(call: ProxiedCall, answer: ProxiedAnswer): T {
  const body = JSON.parse(answer.body) as unknown;
  const first = (call.batch ? (body as unknown[])[0] : body) as { result: { data: T } };
  return first.result.data;
}

export interface TemporaryDatabase {
  url: string;
  countRows(table: string): Promise<number>;
  drop(): Promise<void>;
}

/** A fresh, empty database on the PostgreSQL server at `serverUrl`, dropped by `drop()`. */
export async function createTemporaryDatabase(serverUrl: string): Promise<TemporaryDatabase> {
  const name = `testtrack_verify_${randomBytes(4).toString("hex")}`;
  const sql = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    countRows: async (table) => {
      const inDatabase = postgres(url.toString(), { max: 1 });
      try {
        const [row] = await inDatabase`select count(*)::int as count from ${inDatabase(table)}`;
        return (row?.count as number | undefined) ?? 0;
      } finally {
        await inDatabase.end();
      }
    },
    drop: async () => {
      await sql.unsafe(`drop database if exists ${name} with (force)`);
      await sql.end();
    },
  };
}
