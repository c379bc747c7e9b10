import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));
export const fixturesDir = join(packageDir, "test/fixtures");

export interface ProcessResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command without blocking this process (the TestTrack server may run here). */
export function run(
  command: string,
  args: string[],
  options: {
    cwd?: string;
    env?: Record<string, string>;
    /** Variables of this process not to pass on (this Vitest's own, say). */
    withoutEnv?: (name: string) => boolean;
  } = {},
): Promise<ProcessResult> {
  const { withoutEnv = () => false } = options;
  const inherited = Object.entries(process.env).filter(([name]) => !withoutEnv(name));
  const child = spawn(command, args, {
    cwd: options.cwd ?? packageDir,
    env: { ...Object.fromEntries(inherited), NO_COLOR: "1", ...options.env },
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
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The built `testtrack` CLI. */
export function testtrack(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [join(packageDir, "dist/cli.js"), ...args], { env });
}

function projectWith(files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "testtrack-junit-"));
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, "node_modules", name)), { recursive: true });
    symlinkSync(target, join(dir, "node_modules", name), "dir");
  }
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

const cartTests = {
  jest: `describe("cart", () => {
  test("adds an item", () => {
    console.log("cart has 1 item");
    expect(1 + 1).toBe(2);
  });
  test("applies a discount", () => {
    expect(10 * 0.9).toBe(8);
  });
  test.skip("ships abroad", () => {});
});
`,
  vitest: `import { describe, expect, it } from "vitest";
describe("cart", () => {
  it("adds an item", () => {
    console.log("cart has 1 item");
    expect(1 + 1).toBe(2);
  });
  it("applies a discount", () => {
    expect(10 * 0.9).toBe(8);
  });
  it.skip("ships abroad", () => {});
});
`,
  pytest: `import pytest


def test_adds_an_item():
    print("cart has 1 item")
    assert 1 + 1 == 2


def test_applies_a_discount():
    assert 10 * 0.9 == 8


@pytest.mark.skip(reason="shipping abroad is not built yet")
def test_ships_abroad():
    pass
`,
};

/** Jest 30 with jest-junit, run for real: the JUnit file it writes. */
export async function generateJestReport(): Promise<string> {
  const reporter = realpathSync(join(packageDir, "node_modules/jest-junit"));
  const config = { reporters: ["default", [reporter, { outputName: "jest.xml" }]] };
  const dir = projectWith({
    "cart.test.js": cartTests.jest,
    "jest.config.json": JSON.stringify(config),
  });
  const jest = join(realpathSync(join(packageDir, "node_modules/jest")), "bin/jest.js");
  const result = await run(process.execPath, [jest, "--ci"], { cwd: dir });
  if (result.code !== 1) throw new Error(`jest exited ${result.code}: ${result.stderr}`);
  return join(dir, "jest.xml");
}

/** Vitest 4 with its junit reporter, run for real: the JUnit file it writes. */
export async function generateVitestReport(): Promise<string> {
  const vitest = realpathSync(join(packageDir, "node_modules/vitest"));
  const dir = projectWith({ "cart.test.mjs": cartTests.vitest }, { vitest });
  const result = await run(
    process.execPath,
    [join(vitest, "vitest.mjs"), "run", "--reporter=junit", "--outputFile=vitest.xml"],
    { cwd: dir, withoutEnv: (name) => name.startsWith("VITEST") },
  );
  if (result.code !== 1) throw new Error(`vitest exited ${result.code}: ${result.stderr}`);
  return join(dir, "vitest.xml");
}

/** pytest --junitxml, run for real when pytest is installed; undefined when it is not. */
export async function generatePytestReport(): Promise<string | undefined> {
  if (spawnSync("pytest", ["--version"]).status !== 0) return undefined;
  const dir = projectWith({ "test_cart.py": cartTests.pytest });
  const result = await run(
    "pytest",
    ["-q", "-p", "no:cacheprovider", "--junitxml=pytest.xml", "-o", "junit_logging=out-err"],
    { cwd: dir },
  );
  if (result.code !== 1) throw new Error(`pytest exited ${result.code}: ${result.stdout}`);
  return join(dir, "pytest.xml");
}
