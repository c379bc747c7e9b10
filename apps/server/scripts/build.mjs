// Bundles the server and the workspace packages it imports (@testtrack/*) into dist/main.js, so
// `pnpm start` runs plain JavaScript: no TypeScript loader in the process, about half the
// resident memory of `node --import tsx src/main.ts`, and a faster start. Third-party packages
// stay external and load from node_modules as usual.
import { rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = resolve(root, "dist");

/** Bare imports other than the workspace's own packages are left to node_modules. */
const externalThirdParty = {
  name: "external-third-party",
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith("@testtrack/") ? undefined : { path: args.path, external: true },
    );
  },
};

/**
 * A bundled module's `import.meta.url` would name dist/main.js; files that locate their
 * neighbours through it (migrations, the dashboard) keep the URL of their own source file,
 * expressed relative to the bundle so the checkout can move.
 */
const ownImportMetaUrl = {
  name: "own-import-meta-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      if (!source.includes("import.meta.url")) return undefined;
      const fromBundle = relative(outdir, args.path).split("\\").join("/");
      const url = `new URL(${JSON.stringify(fromBundle)}, import.meta.url).href`;
      return { contents: source.replaceAll("import.meta.url", url), loader: "ts" };
    });
  },
};

// Chunks of an earlier build would stay behind under names nothing imports.
rmSync(outdir, { recursive: true, force: true });
await build({
  // main.js runs the server; prepareEmbedded.js makes the embedded PostgreSQL's template at install.
  entryPoints: [resolve(root, "src/main.ts"), resolve(root, "src/prepareEmbedded.ts")],
  outdir,
  // main.js starts the embedded PostgreSQL, then imports the rest of the server (its own chunk,
  // with the third-party modules it imports) while initdb and the postmaster run.
  splitting: true,
  chunkNames: "chunk-[hash]",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  sourcemap: true,
  logLevel: "warning",
  plugins: [externalThirdParty, ownImportMetaUrl],
});
