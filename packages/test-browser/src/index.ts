import { accessSync, constants, existsSync, readdirSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** A Chromium the browser tests can launch, with the flags it needs here. */
export interface FoundChromium {
  executablePath: string;
  args: string[];
  /** Where it was found, for test output: env, system, playwright-cache or npm. */
  source: "env" | "system" | "playwright-cache" | "npm";
}

/** Flags for a root user on a machine with no outside network. */
const COMMON_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-dev-shm-usage",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const SYSTEM_PATHS = [
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

/** Playwright's own downloads (`npx playwright install`), newest first, where a machine has them. */
function playwrightCacheBrowsers(): string[] {
  const roots = [
    process.env.PLAYWRIGHT_BROWSERS_PATH,
    join(homedir(), ".cache", "ms-playwright"),
    join(homedir(), "Library", "Caches", "ms-playwright"),
  ].filter((root): root is string => !!root && existsSync(root));
  const found: { revision: number; path: string }[] = [];
  for (const root of roots) {
    for (const entry of readdirSync(root)) {
      const match = /^(chromium|chromium_headless_shell)-(\d+)$/.exec(entry);
      if (!match) continue;
      const candidates = [
        join(root, entry, "chrome-linux", "chrome"),
        join(root, entry, "chrome-linux", "headless_shell"),
        join(root, entry, "chrome-headless-shell-linux64", "chrome-headless-shell"),
        join(root, entry, "chrome-mac", "Chromium.app", "Contents", "MacOS", "Chromium"),
      ];
      for (const path of candidates) {
        if (isExecutable(path)) found.push({ revision: Number(match[2]), path });
      }
    }
  }
  return found.sort((a, b) => b.revision - a.revision).map((browser) => browser.path);
}

/**
 * The Chromium the browser tests use, looked for in this order: `TESTTRACK_CHROMIUM`, a system
 * Chromium or Chrome, Playwright's browser cache, then the one `@sparticuz/chromium` ships inside
 * its npm package (Linux x64 and arm64; unpacked to the temp folder on first use, about 7 s).
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
  const system = SYSTEM_PATHS.find(isExecutable);
  if (system) return { executablePath: system, args: COMMON_ARGS, source: "system" };
  const cached = playwrightCacheBrowsers()[0];
  if (cached) return { executablePath: cached, args: COMMON_ARGS, source: "playwright-cache" };
  if (process.platform === "linux" && (process.arch === "x64" || process.arch === "arm64")) {
    const { default: packaged } = await import("@sparticuz/chromium");
    packaged.setGraphicsMode = false;
    // Its own flag list is tuned for AWS Lambda (single process, web security off); the common
    // flags are all a headless test here needs.
    return { executablePath: await packaged.executablePath(), args: COMMON_ARGS, source: "npm" };
  }
  throw new Error(
    [
      "No Chromium found for the browser tests. Install one (Debian/Ubuntu: apt-get install",
      "chromium; macOS: brew install --cask chromium), or point TESTTRACK_CHROMIUM at a",
      "Chromium or Chrome executable.",
    ].join(" "),
  );
}
