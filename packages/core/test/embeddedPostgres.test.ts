import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db";
import {
  EmbeddedPostgresError,
  hydrateLibraryLinks,
  prepareEmbeddedTemplate,
  startEmbeddedPostgres,
} from "../src/embeddedPostgres";
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
    const orphan = await startInProcessKilledAfterwards(dataDir);
    expect(isRunning(orphan)).toBe(true);

    const cluster = await startEmbeddedPostgres({ dataDir });
    try {
      expect(cluster.pid).not.toBe(orphan);
      expect(isRunning(orphan)).toBe(false);
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
      expect(await sql`select 1 as ok`).toEqual([{ ok: 1 }]);
      await sql.end();
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it("starts after its PostgreSQL was killed with SIGKILL too, keeping committed rows", async () => {
    const dataDir = dataFolder();
    const postmaster = await startInProcessKilledAfterwards(
      dataDir,
      "create table kept (n int); insert into kept values (42);",
    );
    process.kill(postmaster, "SIGKILL");
    await until(() => !isRunning(postmaster));
    expect(existsSync(join(dataDir, "postgres", "postmaster.pid"))).toBe(true);

    const cluster = await startEmbeddedPostgres({ dataDir });
    try {
      const sql = postgres(cluster.url, { max: 1, onnotice: () => {} });
      expect(await sql`select n from kept`).toEqual([{ n: 42 }]);
      await sql.end();
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it("starts when the pid in a stale postmaster.pid now belongs to another process, and leaves that process alone", async () => {
    const dataDir = dataFolder();
    const first = await startEmbeddedPostgres({ dataDir });
    const pidFile = join(dataDir, "postgres", "postmaster.pid");
    const lockFile = readFileSync(pidFile, "utf8");
    await first.stop();
    // As after a container restart: the old postmaster's pid is some other live process now, of
    // the same user (PostgreSQL takes a pid it may not signal for a dead one).
    const { uid, gid } = statSync(join(dataDir, "postgres"));
    const bystander = spawn("sleep", ["60"], { stdio: "ignore", uid, gid });
    writeFileSync(pidFile, lockFile.replace(/^\d+/, String(bystander.pid)));
    try {
      const second = await startEmbeddedPostgres({ dataDir });
      await second.stop();
      expect(bystander.exitCode).toBeNull();
      expect(bystander.signalCode).toBeNull();
    } finally {
      bystander.kill();
    }
  }, 60_000);

  it("refuses a cluster of another PostgreSQL major version, saying how to move its data", async () => {
    const dataDir = dataFolder();
    mkdirSync(join(dataDir, "postgres"));
    writeFileSync(join(dataDir, "postgres", "PG_VERSION"), "17\n");
    writeFileSync(join(dataDir, "postgres-password"), "secret\n", { mode: 0o600 });
    const error = await rejectionOf(startEmbeddedPostgres({ dataDir }));
    expect(error).toBeInstanceOf(EmbeddedPostgresError);
    expect((error as Error).message).toMatch(/PostgreSQL 17 database/);
    expect((error as Error).message).toMatch(/pg_dump/);
  });
});

describe("prepareEmbeddedTemplate", () => {
  const migrations = (
    JSON.parse(readFileSync(new URL("../drizzle/meta/_journal.json", import.meta.url), "utf8")) as {
      entries: unknown[];
    }
  ).entries.length;

  /** A folder the unprivileged account PostgreSQL runs as (under root) can pass through. */
  function openFolder(): string {
    const folder = dataFolder();
    chmodSync(folder, 0o755);
    return folder;
  }

  async function migratedTemplate(): Promise<string> {
    const folder = openFolder();
    const template = join(folder, "template");
    await prepareEmbeddedTemplate({
      dir: template,
      prepare: async (url) => {
        const database = openDatabase({ url, maxConnections: 1 });
        await database.migrate();
        await database.close();
      },
    });
    // Stopped cleanly, nothing left of the build beside it, no password to share.
    expect(readdirSync(folder)).toEqual(["template"]);
    expect(existsSync(join(template, "postgres", "postmaster.pid"))).toBe(false);
    expect(existsSync(join(template, "postgres-password"))).toBe(false);
    return template;
  }

  async function migrationsIn(url: string): Promise<number> {
    const client = postgres(url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await client<{ n: number }[]>`
        select count(*)::int as n from drizzle.__drizzle_migrations`;
      return row?.n ?? 0;
    } catch (error) {
      // No migration table: a cluster made by initdb (undefined_table).
      if ((error as { code?: string }).code === "42P01") return 0;
      throw error;
    } finally {
      await client.end();
    }
  }

  it("gives each new folder a migrated copy with a password of its own, kept across restarts", async () => {
    const template = await migratedTemplate();
    const a = dataFolder();
    const b = dataFolder();
    const first = await startEmbeddedPostgres({ dataDir: a, template });
    const second = await startEmbeddedPostgres({ dataDir: b, template });
    try {
      // Copies, not initdb: every migration is there before the server runs one.
      expect(await migrationsIn(first.url)).toBe(migrations);
      expect(await migrationsIn(second.url)).toBe(migrations);
      const passwordOf = (folder: string) =>
        readFileSync(join(folder, "postgres-password"), "utf8").trim();
      expect(passwordOf(a)).not.toBe(passwordOf(b));
      expect(statSync(join(a, "postgres-password")).mode & 0o777).toBe(0o600);
      expect(decodeURIComponent(new URL(first.url).password)).toBe(passwordOf(a));
      // One folder's password does not open the other.
      const crossed = new URL(second.url);
      crossed.password = new URL(first.url).password;
      const client = postgres(crossed.toString(), { max: 1, onnotice: () => {} });
      const error = await rejectionOf(client`select 1`);
      expect(String((error as Error).message)).toMatch(/password authentication failed/);
      await client.end();
      const db = openDatabase({ url: first.url });
      await db.migrate();
      await createUser(db.db, {
        email: "copy@example.test",
        name: "Copy",
        password: TEST_PASSWORD,
      });
      await db.close();
    } finally {
      await first.stop();
      await second.stop();
    }
    const again = await startEmbeddedPostgres({ dataDir: a, template });
    const db = openDatabase({ url: again.url });
    try {
      expect(await findUserByEmail(db.db, "copy@example.test")).toBeDefined();
    } finally {
      await db.close();
      await again.stop();
    }
  }, 60_000);

  it("runs initdb instead when the template is of another major version or cannot be used", async () => {
    // Another major version: ignored without a word.
    const old = join(openFolder(), "template");
    mkdirSync(join(old, "postgres"), { recursive: true });
    writeFileSync(join(old, "postgres", "PG_VERSION"), "9\n");
    const quiet: string[] = [];
    const fresh = await startEmbeddedPostgres({
      dataDir: dataFolder(),
      template: old,
      onLog: (line) => quiet.push(line),
    });
    try {
      expect(await migrationsIn(fresh.url)).toBe(0);
      expect(quiet.join("\n")).not.toMatch(/template/);
    } finally {
      await fresh.stop();
    }
    // Damaged (no pg_control): the copy fails to open, a warning says so, initdb takes over.
    const damaged = join(openFolder(), "template");
    await prepareEmbeddedTemplate({ dir: damaged });
    rmSync(join(damaged, "postgres", "global", "pg_control"));
    const logs: string[] = [];
    const dataDir = dataFolder();
    const recovered = await startEmbeddedPostgres({
      dataDir,
      template: damaged,
      onLog: (line) => logs.push(line),
    });
    try {
      expect(logs.join("\n")).toMatch(
        /WARNING: the template .* could not be copied, running initdb/,
      );
      expect(existsSync(join(dataDir, "postgres.copying"))).toBe(false);
      const client = postgres(recovered.url, { max: 1, onnotice: () => {} });
      expect(await client`select 1 as one`).toEqual([{ one: 1 }]);
      await client.end();
    } finally {
      await recovered.stop();
    }
  }, 60_000);
});

/**
 * Starts the cluster in a child process, runs `sql` in it, and kills that process with SIGKILL
 * (no shutdown at all), leaving its PostgreSQL running; resolves with the postmaster's pid.
 */
async function startInProcessKilledAfterwards(dataDir: string, sql = ""): Promise<number> {
  const script = `
    const { startEmbeddedPostgres } = await import(${JSON.stringify(new URL("../src/embeddedPostgres.ts", import.meta.url).href)});
    const { default: postgres } = await import("postgres");
    const cluster = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)} });
    const client = postgres(cluster.url, { max: 1, onnotice: () => {} });
    await client.unsafe(${JSON.stringify(sql || "select 1")});
    console.log(cluster.pid);
    process.kill(process.pid, "SIGKILL");`;
  const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let printed = "";
  child.stdout?.on("data", (chunk) => {
    printed += chunk;
  });
  await new Promise((resolve) => child.once("exit", resolve));
  const pid = Number(printed.trim());
  expect(pid).toBeGreaterThan(0);
  return pid;
}

/** Alive and not a zombie (nobody may reap a killed orphan at once). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

async function until(condition: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe("hydrateLibraryLinks", () => {
  it("makes the shared-library links an install without scripts left out, relative, and keeps existing ones", () => {
    const root = mkdtempSync(join(tmpdir(), "testtrack-pg-links-"));
    try {
      mkdirSync(join(root, "native", "bin"), { recursive: true });
      mkdirSync(join(root, "native", "lib"), { recursive: true });
      writeFileSync(join(root, "native", "bin", "postgres"), "");
      writeFileSync(join(root, "native", "lib", "libicui18n.so.60.2"), "library");
      symlinkSync("libicui18n.so.60.2", join(root, "native", "lib", "libicui18n.so"));
      writeFileSync(
        join(root, "native", "pg-symlinks.json"),
        JSON.stringify([
          { source: "native/lib/libicui18n.so.60.2", target: "native/lib/libicui18n.so.60" },
          { source: "native/lib/libicui18n.so.60.2", target: "native/lib/libicui18n.so" },
        ]),
      );
      hydrateLibraryLinks(join(root, "native", "bin", "postgres"));
      expect(readlinkSync(join(root, "native", "lib", "libicui18n.so.60"))).toBe(
        "libicui18n.so.60.2",
      );
      expect(readFileSync(join(root, "native", "lib", "libicui18n.so.60"), "utf8")).toBe("library");
      expect(readlinkSync(join(root, "native", "lib", "libicui18n.so"))).toBe("libicui18n.so.60.2");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
