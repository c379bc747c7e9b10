import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db";
import { EmbeddedPostgresError, startEmbeddedPostgres } from "../src/embeddedPostgres";
import { createTestCase, getTestCase } from "../src/testCases";
import { createUser, findUserByEmail } from "../src/users";
import { rejectionOf, TEST_PASSWORD } from "./fixtures";

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

function dataFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), "testtrack-embedded-"));
  folders.push(folder);
  return folder;
}

describe("startEmbeddedPostgres", () => {
  it("keeps every row across a stop and a second start on the same folder", async () => {
    const dataDir = dataFolder();
    const first = await startEmbeddedPostgres({ dataDir });
    const db1 = openDatabase({ url: first.url });
    await db1.migrate();
    const user = await createUser(db1.db, {
      email: "kept@example.test",
      name: "Kept",
      password: TEST_PASSWORD,
    });
    const actor = { id: user.id, role: user.role };
    const testCase = await createTestCase(db1.db, actor, { title: "Survives restarts" });
    await db1.close();
    await first.stop();

    const second = await startEmbeddedPostgres({ dataDir });
    const db2 = openDatabase({ url: second.url });
    try {
      await db2.migrate();
      expect((await findUserByEmail(db2.db, "kept@example.test"))?.id).toBe(user.id);
      expect((await getTestCase(db2.db, actor, { id: testCase.id })).title).toBe(
        "Survives restarts",
      );
    } finally {
      await db2.close();
      await second.stop();
    }
  });

  it("listens on 127.0.0.1 only, with a generated password kept in a file only its owner reads", async () => {
    const dataDir = dataFolder();
    const cluster = await startEmbeddedPostgres({ dataDir });
    try {
      const url = new URL(cluster.url);
      expect(url.hostname).toBe("127.0.0.1");
      expect(decodeURIComponent(url.password)).toBe(
        readFileSync(join(dataDir, "postgres-password"), "utf8").trim(),
      );
      expect(url.password.length).toBeGreaterThanOrEqual(30);
      expect(statSync(join(dataDir, "postgres-password")).mode & 0o777).toBe(0o600);
      url.password = "wrong";
      const wrong = postgres(url.toString(), { max: 1, onnotice: () => {} });
      const error = await rejectionOf(wrong`select 1`);
      expect(String((error as Error).message)).toMatch(/password authentication failed/);
      await wrong.end();
    } finally {
      await cluster.stop();
    }
  });

  it("refuses a folder written by the PGlite version, saying how to move its data", async () => {
    const dataDir = dataFolder();
    // PGlite kept a PostgreSQL data directory at the top of TESTTRACK_DATA_DIR.
    writeFileSync(join(dataDir, "PG_VERSION"), "17\n");
    const error = await rejectionOf(startEmbeddedPostgres({ dataDir }));
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect((error as Error).message).toMatch(/PGlite/);
    expect((error as Error).message).toMatch(/pgDump|DATABASE_URL/);
    expect(existsSync(join(dataDir, "postgres"))).toBe(false);
  });

  it("takes the folder over from a PostgreSQL left running by a process killed with SIGKILL", async () => {
    const dataDir = dataFolder();
    // A process that starts the cluster, then dies without stopping it.
    const script = `
      const { startEmbeddedPostgres } = await import(${JSON.stringify(new URL("../src/embeddedPostgres.ts", import.meta.url).href)});
      const cluster = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
      console.log(cluster.pid);
      process.kill(process.pid, "SIGKILL");`;
    const child = spawn(
      process.execPath,
      ["--import", "tsx", "--input-type=module", "-e", script],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let printed = "";
    child.stdout?.on("data", (chunk) => {
      printed += chunk;
    });
    await new Promise((resolve) => child.once("exit", resolve));
    const orphan = Number(printed.trim());
    expect(orphan).toBeGreaterThan(0);
    expect(() => process.kill(orphan, 0)).not.toThrow();

    const cluster = await startEmbeddedPostgres({ dataDir });
    try {
      expect(cluster.pid).not.toBe(orphan);
      expect(() => process.kill(orphan, 0)).toThrow();
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
      expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
      await sql.end();
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
