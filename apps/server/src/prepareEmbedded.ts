// Run by `pnpm install` (the root postinstall, after the bundle is built): the embedded
// PostgreSQL's template, a cluster with every migration applied, so that a first `pnpm start`
// copies it instead of running initdb and the migrations (about 1.5 s of the first start).
// Never fails the install: without a template the first start runs initdb itself.
import { openDatabase } from "@testtrack/core";
import { prepareEmbeddedTemplate } from "@testtrack/core/embedded";
import { EMBEDDED_TEMPLATE_DIR } from "./config";

try {
  await prepareEmbeddedTemplate({
    dir: EMBEDDED_TEMPLATE_DIR,
    prepare: async (url) => {
      const database = openDatabase({ url, maxConnections: 1 });
      try {
        await database.migrate();
      } finally {
        await database.close();
      }
    },
  });
} catch (error) {
  console.warn(
    `TestTrack: no template for the embedded PostgreSQL (${error instanceof Error ? error.message : String(error)}); a first start runs initdb instead`,
  );
}
