import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { freePort } from "./privatePostgres";

const serverDir = fileURLToPath(new URL("../../../../apps/server", import.meta.url));
export const ADMIN = { email: "admin@example.test", password: "a long admin password" };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Everything it printed so far. */
  output(): string;
  exited: Promise<number | null>;
}

/**
 * The server as one node process (tsx as the loader; `pnpm start` runs the bundle), on the
 * embedded PostgreSQL in `dataDir` unless `env` names a DATABASE_URL, healthy when this resolves.
 * On a free port unless `env` names a PORT (a restart behind a load balancer keeps its port).
 */
export async function startServerProcess(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<ServerProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    LOG_LEVEL: "silent",
    NODE_ENV: "production",
  };
  delete childEnv.DATABASE_URL;
  Object.assign(childEnv, {
    PORT: String(port),
    HOST: "127.0.0.1",
    TESTTRACK_DATA_DIR: dataDir,
    TESTTRACK_ADMIN_EMAIL: ADMIN.email,
    TESTTRACK_ADMIN_PASSWORD: ADMIN.password,
    ...env,
  });
  const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
    cwd: serverDir,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk) => {
    output += chunk;
  });
  child.stderr?.on("data", (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null)
      throw new Error(`server exited early with ${child.exitCode}: ${output}`);
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 600) throw new Error(`server did not become healthy: ${output}`);
    await sleep(100);
  }
  return { child, url, output: () => output, exited };
}
