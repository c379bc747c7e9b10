import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FoundChromium, findChromium } from "@testtrack/test-browser";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * The Chromium the projects run in (TESTTRACK_CHROMIUM, a system one, Playwright's cache, or the
 * one @sparticuz/chromium ships), so the tests need no `npx playwright install`.
 */
export const chromium: Promise<FoundChromium> = findChromium();

/** A tiny site on a free loopback port for the browser to visit. */
export async function startPage(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    if (request.url !== "/") {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { "content-type": "text/html" });
    response.end(
      `<!doctype html><title>Shop</title><h1>Hello TestTrack</h1>
       <button id="buy" onclick="this.textContent='Bought'">Buy</button>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * A folder holding a Playwright project that installs the reporter by its package name, as a
 * user's would: node_modules links @playwright/test and @testtrack/playwright (this package).
 */
export function createPlaywrightProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "testtrack-playwright-"));
  const links = {
    "@playwright/test": realpathSync(join(packageDir, "node_modules/@playwright/test")),
    "@testtrack/playwright": packageDir,
  };
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, "node_modules", name)), { recursive: true });
    symlinkSync(target, join(dir, "node_modules", name), "dir");
  }
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

export interface PlaywrightConfig {
  browser: FoundChromium;
  pageUrl: string;
  reporterOptions: Record<string, unknown>;
  retries?: number;
}

/** playwright.config.mjs running the found Chromium, with the list, JSON and TestTrack reporters. */
export function playwrightConfig(config: PlaywrightConfig): string {
  return `import { defineConfig } from "@playwright/test";
export default defineConfig({
  testDir: ".",
  outputDir: "test-results",
  retries: ${config.retries ?? 0},
  workers: 1,
  reporter: [
    ["list"],
    ["json", { outputFile: "report.json" }],
    ["@testtrack/playwright", ${JSON.stringify(config.reporterOptions)}],
  ],
  use: {
    baseURL: ${JSON.stringify(config.pageUrl)},
    screenshot: "only-on-failure",
  },
  projects: [
    {
      name: "desktop",
      use: {
        browserName: "chromium",
        launchOptions: {
          executablePath: ${JSON.stringify(config.browser.executablePath)},
          args: ${JSON.stringify(config.browser.args)},
        },
      },
    },
  ],
});
`;
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the Playwright CLI without blocking this process: the TestTrack server it reports to
 * runs in this very process.
 */
export function runPlaywright(
  cwd: string,
  env: Record<string, string>,
  onStart?: (child: ChildProcess) => void,
  args: string[] = [],
): Promise<ProcessResult> {
  const cli = join(cwd, "node_modules/@playwright/test/cli.js");
  const child = spawn(process.execPath, [cli, "test", ...args], {
    cwd,
    env: { ...process.env, FORCE_COLOR: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk) => {
    stderr += chunk;
  });
  onStart?.(child);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
