// `pnpm start` in one process: the dashboard built once (ensure-dashboard.mjs), the server bundle
// rebuilt only when a source is newer than it (build.mjs; `pnpm install` builds it first), then
// the server itself. Each node process saved is about 0.1 s of a first start.
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

await import("./ensure-dashboard.mjs");

const bundle = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const sources = ["../src", "../../../packages/core/src"].map((dir) =>
  fileURLToPath(new URL(dir, import.meta.url)),
);

/** The newest modification time of the files under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

const built = existsSync(bundle) ? statSync(bundle).mtimeMs : 0;
if (sources.some((dir) => newest(dir) > built)) await import("./build.mjs");
await import(new URL("../dist/main.js", import.meta.url).href);
