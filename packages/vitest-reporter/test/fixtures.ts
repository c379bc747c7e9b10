import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const packageDir = fileURLToPath(new URL("..", import.meta.url));

/**
 * A folder holding a Vitest project that installs the reporter by its package name, as a
 * user's would: node_modules links vitest and @testtrack/vitest-reporter (this package).
 */
export function createVitestProject(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "testtrack-vitest-"));
  const links = {
    vitest: realpathSync(join(packageDir, "node_modules/vitest")),
    "@testtrack/vitest-reporter": packageDir,
  };
  for (const [name, target] of Object.entries(links)) {
    mkdirSync(dirname(join(dir, "node_modules", name)), { recursive: true });
    symlinkSync(target, join(dir, "node_modules", name), "dir");
  }
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

/**
 * vitest.config.mjs with the default, JSON and TestTrack reporters, and `reportersBefore` (paths
 * of the project's own reporter modules) just before TestTrack's.
 */
export function vitestConfig(
  reporterOptions: Record<string, unknown>,
  reportersBefore: string[] = [],
): string {
  return `import { defineConfig } from "vitest/config";
export default defineConfig({
  test: {
    include: ["**/*.test.mjs"],
    reporters: [
      "default",
      ["json", { outputFile: "report.json" }],${reportersBefore.map((path) => `\n      ${JSON.stringify(path)},`).join("")}
      ["@testtrack/vitest-reporter", ${JSON.stringify(reporterOptions)}],
    ],
  },
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
 * Runs `vitest run` in `cwd` without blocking this process (the TestTrack server it reports to
 * runs here), and without this Vitest's own variables, which would make it a worker of ours.
 */
export function runVitest(
  cwd: string,
  env: Record<string, string>,
  onStart?: (child: ChildProcess) => void,
): Promise<ProcessResult> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) =>
        !name.startsWith("VITEST") && !name.startsWith("TESTTRACK_") && name !== "NODE_OPTIONS",
    ),
  );
  const cli = join(cwd, "node_modules/vitest/vitest.mjs");
  const child = spawn(process.execPath, [cli, "run"], {
    cwd,
    env: { ...inherited, NO_COLOR: "1", ...env },
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
