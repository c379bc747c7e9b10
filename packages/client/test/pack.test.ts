import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, expect, it } from "vitest";

const packageDir = fileURLToPath(new URL("..", import.meta.url));
const consumerDir = mkdtempSync(join(tmpdir(), "testtrack-consumer-"));
afterAll(() => rmSync(consumerDir, { recursive: true, force: true }));

function run(command: string, args: string[], cwd: string): string {
  try {
    return execFileSync(command, args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(" ")} failed:\n${stdout ?? ""}${stderr ?? ""}`);
  }
}

it("compiles a consumer that installed only the packed tarball, and rejects wrong inputs", () => {
  run("pnpm", ["pack", "--pack-destination", consumerDir], packageDir);
  const tarball = readdirSync(consumerDir).find((name) => name.endsWith(".tgz"));
  expect(tarball).toBeDefined();
  writeFileSync(
    join(consumerDir, "package.json"),
    JSON.stringify({
      name: "consumer",
      private: true,
      type: "module",
      dependencies: {
        "@testtrack/client": `file:./${tarball}`,
        "@trpc/client": "11.25.2",
        "@trpc/server": "11.25.2",
        typescript: "5.9.3",
      },
    }),
  );
  writeFileSync(
    join(consumerDir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2022", "DOM", "ESNext.Disposable"],
        types: [],
        noEmit: true,
        skipLibCheck: false,
      },
      files: ["consumer.ts"],
    }),
  );
  cpSync(join(packageDir, "test/consumer/consumer.ts"), join(consumerDir, "consumer.ts"));
  run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], consumerDir);
  // Fails on any type error, including an @ts-expect-error that is not needed.
  const compiled = run(join(consumerDir, "node_modules/.bin/tsc"), ["-p", "."], consumerDir);
  expect(compiled).toBe("");
  // And the built ESM loads in plain Node with only the tarball's files.
  const loaded = run(
    "node",
    [
      "--input-type=module",
      "-e",
      "const m = await import('@testtrack/client'); console.log(Object.keys(m).sort().join(','), m.ExecutionStatus.RUNNING)",
    ],
    consumerDir,
  );
  expect(loaded).toContain("createTestTrackClient");
  expect(loaded).toContain("recordExecution");
  expect(loaded.trim().endsWith("running")).toBe(true);
}, 240_000); // Packing, installing from the registry and compiling take a minute or more on a busy machine.
