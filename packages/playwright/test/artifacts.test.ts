import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createTestTrackClient, type TestTrackClient } from "@testtrack/client";
import { createTestPrincipal, startTestServer, type TestServer } from "@testtrack/server/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chromium,
  createPlaywrightProject,
  type ProcessResult,
  playwrightConfig,
  runPlaywright,
  startPage,
} from "./fixtures";

const spec = `import { expect, test } from "@playwright/test";

test("finds the missing button", async ({ page }) => {
  await page.goto("/");
  await page.locator("#missing").click({ timeout: 300 });
});

test("shows the heading", async ({ page }) => {
  await page.goto("/");
  await expect(page.locator("h1")).toHaveText("Hello TestTrack");
});
`;

/**
 * Playwright records video with its own ffmpeg build (`npx playwright install ffmpeg`); here a
 * static ffmpeg from npm stands in, under a browsers folder that only holds it (the projects
 * launch Chromium by its path).
 */
function ffmpegBrowsersPath(): string {
  const require = createRequire(import.meta.url);
  const core = dirname(
    require.resolve("playwright-core/package.json", {
      paths: [dirname(require.resolve("@playwright/test/package.json"))],
    }),
  );
  const browsers = JSON.parse(readFileSync(join(core, "browsers.json"), "utf8")) as {
    browsers: { name: string; revision: string }[];
  };
  const revision = browsers.browsers.find((browser) => browser.name === "ffmpeg")?.revision;
  const ffmpeg = require.resolve("@ffmpeg-installer/linux-x64/ffmpeg");
  const root = mkdtempSync(join(tmpdir(), "testtrack-ffmpeg-"));
  mkdirSync(join(root, `ffmpeg-${revision}`));
  symlinkSync(ffmpeg, join(root, `ffmpeg-${revision}`, "ffmpeg-linux"));
  return root;
}

/** Every file Playwright left in test-results, by its path below it. */
function resultFiles(dir: string): Map<string, Buffer> {
  const root = join(dir, "test-results");
  const files = new Map<string, Buffer>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const path = join(entry.parentPath, entry.name);
      files.set(path.slice(root.length + 1), readFileSync(path));
    }
  }
  return files;
}

describe.runIf(process.platform === "linux" && process.arch === "x64")(
  "a failing Playwright test's screenshot and video",
  () => {
    let server: TestServer;
    let page: Awaited<ReturnType<typeof startPage>>;
    let client: TestTrackClient;
    let dir: string;
    let run: ProcessResult;
    let browsersPath: string | undefined;

    beforeAll(async () => {
      [server, page] = await Promise.all([startTestServer(), startPage()]);
      const { token } = await createTestPrincipal(server.database);
      client = createTestTrackClient({ url: server.url, token });
      const config = playwrightConfig({
        browser: await chromium,
        pageUrl: page.url,
        reporterOptions: { url: server.url },
      }).replace(
        'screenshot: "only-on-failure",',
        'screenshot: "only-on-failure",\n    video: "on",',
      );
      expect(config).toContain('video: "on"');
      dir = createPlaywrightProject({ "playwright.config.mjs": config, "shop.spec.mjs": spec });
      browsersPath = ffmpegBrowsersPath();
      run = await runPlaywright(dir, {
        TESTTRACK_TOKEN: token,
        PLAYWRIGHT_BROWSERS_PATH: browsersPath,
      });
    }, 120_000);

    afterAll(async () => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      if (browsersPath) rmSync(browsersPath, { recursive: true, force: true });
      await Promise.all([server?.close(), page?.close()]);
    });

    it("uploads both, and downloads give back the very bytes Playwright wrote", async () => {
      expect(run.stderr).not.toContain("TestTrack reporter:");
      expect(run.code).toBe(1);
      const { items } = await client.execution.list.query({ limit: 10 });
      const failed = items.find((item) => item.result === "fail");
      const passed = items.find((item) => item.result === "pass");
      if (!failed || !passed)
        throw new Error(`expected a failed and a passed execution: ${run.stdout}`);
      const detail = await client.execution.get.query({ id: failed.id });
      const kinds = detail.artifacts.map((artifact) => `${artifact.kind} ${artifact.contentType}`);
      expect(kinds).toContain("screenshot image/png");
      expect(kinds).toContain("video video/webm");

      const files = resultFiles(dir);
      for (const artifact of detail.artifacts) {
        const [path, bytes] =
          [...files].find(([file]) => file.includes("missing") && file.endsWith(artifact.name)) ??
          [];
        if (!path || !bytes)
          throw new Error(`no file for ${artifact.name} in ${[...files.keys()]}`);
        expect(artifact.size).toBe(bytes.length);
        const response = await fetch(new URL(artifact.url, server.url));
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toBe(artifact.contentType);
        expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
      }
      // The passing test has its video only: no screenshot unless it fails.
      const passedDetail = await client.execution.get.query({ id: passed.id });
      expect(passedDetail.artifacts.map((artifact) => `${artifact.kind} ${artifact.name}`)).toEqual(
        ["video video.webm"],
      );
    });
  },
);
