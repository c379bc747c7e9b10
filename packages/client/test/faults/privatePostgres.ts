import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type EmbeddedPostgres, startEmbeddedPostgres } from "@testtrack/core";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

export interface PrivatePostgres {
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * An embedded PostgreSQL of the test's own, in a temporary folder on a fixed free port, so a test
 * can stop and start it (clients reconnect to the same URL) without disturbing any other test.
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dataDir = mkdtempSync(join(tmpdir(), "testtrack-pg-"));
  const port = await freePort();
  const settings = { fsync: "off" };
  let running: EmbeddedPostgres | undefined = await startEmbeddedPostgres({
    dataDir,
    port,
    settings,
  });
  const url = running.url;
  return {
    url,
    start: async () => {
      running ??= await startEmbeddedPostgres({ dataDir, port, settings });
    },
    stop: async () => {
      await running?.stop();
      running = undefined;
    },
    destroy: async () => {
      await running?.stop();
      running = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
