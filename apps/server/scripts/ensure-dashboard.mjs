// Runs after `pnpm install` and before `pnpm start`: builds the dashboard once, so a fresh clone
// serves it at `/` and its first start is not kept waiting for the build.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const index = fileURLToPath(new URL("../../web/dist/index.html", import.meta.url));
if (!existsSync(index)) {
  console.log("Building the dashboard (apps/web) once; later starts reuse apps/web/dist.");
  execFileSync("pnpm", ["--filter", "@testtrack/web", "build"], { stdio: "inherit" });
}
