import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { findChromium, SYSTEM_CHROMIUM_PATHS } from "./chromium";

const require = createRequire(import.meta.url);
const root = mkdtempSync(join(tmpdir(), "testtrack-test-browser-"));

function fakeExecutable(path: string, mode = 0o755): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, "#!/bin/sh\n");
  chmodSync(path, mode);
  return path;
}

/** The Chromium revision the installed playwright-core downloads. */
function playwrightRevision(): string {
  const browsersJson = join(
    dirname(require.resolve("playwright-core/package.json")),
    "browsers.json",
  );
  const { browsers } = JSON.parse(readFileSync(browsersJson, "utf8")) as {
    browsers: { name: string; revision: string }[];
  };
  const chromium = browsers.find((browser) => browser.name === "chromium");
  if (!chromium) throw new Error(`no chromium in ${browsersJson}`);
  return chromium.revision;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("TESTTRACK_CHROMIUM", () => {
  it("is taken before a system or cached Chromium", async () => {
    const configured = fakeExecutable(join(root, "env", "chrome"));
    vi.stubEnv("TESTTRACK_CHROMIUM", configured);
    await expect(findChromium()).resolves.toMatchObject({
      executablePath: configured,
      source: "env",
    });
  });

  it("is refused when it names no executable, instead of looking elsewhere", async () => {
    vi.stubEnv("TESTTRACK_CHROMIUM", fakeExecutable(join(root, "env", "plain"), 0o644));
    await expect(findChromium()).rejects.toThrow(/is not an executable file/);
  });
});

// The fake cache has Linux x64's layout, and a system Chromium would be taken before it.
const cacheUnreachable =
  process.platform !== "linux" || process.arch !== "x64" || SYSTEM_CHROMIUM_PATHS.some(existsSync);

describe.skipIf(cacheUnreachable)("Playwright's browser cache", () => {
  // playwright-core reads PLAYWRIGHT_BROWSERS_PATH once, when findChromium first loads it.
  const cache = join(root, "ms-playwright");
  const revision = playwrightRevision();
  fakeExecutable(join(cache, "chromium-1", "chrome-linux64", "chrome"));

  it("finds the headless shell `--only-shell` installs for playwright-core's revision", async () => {
    vi.stubEnv("PLAYWRIGHT_BROWSERS_PATH", cache);
    const shell = fakeExecutable(
      join(
        cache,
        `chromium_headless_shell-${revision}`,
        "chrome-headless-shell-linux64",
        "chrome-headless-shell",
      ),
    );
    await expect(findChromium()).resolves.toMatchObject({
      executablePath: shell,
      source: "playwright-cache",
    });
  });

  it("prefers that revision's full Chromium, never another revision's", async () => {
    vi.stubEnv("PLAYWRIGHT_BROWSERS_PATH", cache);
    const full = fakeExecutable(join(cache, `chromium-${revision}`, "chrome-linux64", "chrome"));
    await expect(findChromium()).resolves.toMatchObject({
      executablePath: full,
      source: "playwright-cache",
    });
  });
});
