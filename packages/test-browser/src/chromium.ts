import { execFile } from "node:child_process";
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

const require = createRequire(import.meta.url);
const execFileAsync = promisify(execFile);

/** A Chromium the browser tests can launch, with the flags it needs here. */
export interface FoundChromium {
  executablePath: string;
  args: string[];
  /** Where it was found, for test output: env, system, playwright-cache or npm. */
  source: "env" | "system" | "playwright-cache" | "npm";
}

/**
 * Flags for a root user on a machine with no outside network. @sparticuz/chromium's own `args`
 * are tuned for AWS Lambda: their --single-process makes its Chromium crash when a second browser
 * context closes, which Playwright's test runner does between tests.
 */
const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where system packages and installers put Chromium or Chrome. */
export const SYSTEM_CHROMIUM_PATHS = [
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/usr/bin/google-chrome-stable",
  "/snap/bin/chromium",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Chromium `npx playwright install` downloads for this playwright-core version (the suites'
 * version), in full or as the headless shell `--only-shell` installs, where a machine has it.
 */
async function playwrightCacheChromium(): Promise<string | undefined> {
  const { chromium } = await import("playwright-core");
  let full: string;
  try {
    // Honours PLAYWRIGHT_BROWSERS_PATH; throws on a platform Playwright has no build for.
    full = chromium.executablePath();
  } catch {
    return undefined;
  }
  if (isExecutable(full)) return full;
  // <cache>/chromium-1255/chrome-linux64/chrome has its shell in
  // <cache>/chromium_headless_shell-1255/chrome-headless-shell-linux64/chrome-headless-shell.
  const shellName =
    process.platform === "win32" ? "chrome-headless-shell.exe" : "chrome-headless-shell";
  const shell = full.replace(
    /chromium-(\d+)([\\/])chrome-([^\\/]+)[\\/].*$/,
    `chromium_headless_shell-$1$2chrome-headless-shell-$3$2${shellName}`,
  );
  return shell !== full && isExecutable(shell) ? shell : undefined;
}

/**
 * Unpacks the Chromium @sparticuz/chromium ships (brotli-compressed inside the npm package) into
 * `<tmp>/testtrack-chromium-<version>/` once, and returns its executable.
 */
async function packagedChromium(): Promise<string> {
  const entry = require.resolve("@sparticuz/chromium");
  const manifest = join(dirname(entry), "..", "..", "package.json");
  const { version } = JSON.parse(readFileSync(manifest, "utf8")) as { version: string };
  const folder = join(tmpdir(), `testtrack-chromium-${version}`);
  const executable = join(folder, "chromium");
  if (existsSync(executable)) return executable;
  // The package unpacks into the temp folder, where its files appear before they are complete
  // (and another version's may already sit); unpacking into a private folder renamed into place
  // keeps parallel or interrupted runs from launching a half-written binary.
  const staging = mkdtempSync(join(tmpdir(), "testtrack-chromium-unpacking-"));
  try {
    await execFileAsync(
      process.execPath,
      ["-e", `require(${JSON.stringify(entry)}).executablePath()`],
      {
        env: { ...process.env, TMPDIR: staging },
      },
    );
    renameSync(staging, folder);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    // A parallel run renamed its copy into place first.
    if (!existsSync(executable)) throw error;
  }
  return executable;
}

/**
 * The Chromium the browser tests use, looked for in this order: `TESTTRACK_CHROMIUM`, a system
 * Chromium or Chrome, Playwright's browser cache, then the one `@sparticuz/chromium` ships inside
 * its npm package (Linux x64 and arm64; unpacked on first use in a few seconds).
 * Fails with what to install only when none can be had.
 */
export async function findChromium(): Promise<FoundChromium> {
  const configured = process.env.TESTTRACK_CHROMIUM;
  if (configured) {
    if (!isExecutable(configured)) {
      throw new Error(`TESTTRACK_CHROMIUM=${configured} is not an executable file`);
    }
    return { executablePath: configured, args: COMMON_ARGS, source: "env" };
  }
  const system = SYSTEM_CHROMIUM_PATHS.find(isExecutable);
  if (system) return { executablePath: system, args: COMMON_ARGS, source: "system" };
  const cached = await playwrightCacheChromium();
  if (cached) return { executablePath: cached, args: COMMON_ARGS, source: "playwright-cache" };
  if (process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64")) {
    return { executablePath: await packagedChromium(), args: COMMON_ARGS, source: "npm" };
  }
  throw new Error(
    [
      "No Chromium found for the browser tests. Install one (Debian/Ubuntu: apt-get install",
      "chromium; macOS: brew install --cask chromium; anywhere: pnpm --filter",
      "@testtrack/playwright exec playwright install chromium), or",
      "point TESTTRACK_CHROMIUM at a Chromium or Chrome executable.",
    ].join(" "),
  );
}
