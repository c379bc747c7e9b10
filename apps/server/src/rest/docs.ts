import { createReadStream } from "node:fs";
import type { ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { DOCS_PATH, OPENAPI_PATH } from "./paths";

// Scalar's standalone bundle from node_modules: the docs work offline, nothing from a CDN.
const SCALAR_BUNDLE = join(
  dirname(createRequire(import.meta.url).resolve("@scalar/api-reference")),
  "browser/standalone.js",
);

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>TestTrack REST API</title>
</head>
<body>
<div id="app"></div>
<script src="${DOCS_PATH}/scalar.js"></script>
<script src="${DOCS_PATH}/init.js"></script>
</body>
</html>
`;

// Users read these docs offline: no fonts from Scalar's CDN, no telemetry, none of its hosted
// services (the AI agent, the developer toolbar's deploy and SDK buttons).
const INIT = `Scalar.createApiReference("#app", ${JSON.stringify({
  url: OPENAPI_PATH,
  withDefaultFonts: false,
  telemetry: false,
  showDeveloperTools: "never",
  agent: { disabled: true },
})});\n`;

const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/** The rendered API docs; false when `path` is not theirs. */
export function serveDocs(path: string, res: ServerResponse): boolean {
  res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
  res.setHeader("x-content-type-options", "nosniff");
  if (path === DOCS_PATH || path === `${DOCS_PATH}/`) {
    res.setHeader("content-type", "text/html; charset=utf-8");
    res.end(PAGE);
    return true;
  }
  if (path === `${DOCS_PATH}/init.js`) {
    res.setHeader("content-type", "text/javascript; charset=utf-8");
    res.end(INIT);
    return true;
  }
  if (path === `${DOCS_PATH}/scalar.js`) {
    res.setHeader("content-type", "text/javascript; charset=utf-8");
    res.setHeader("cache-control", "public, max-age=86400");
    createReadStream(SCALAR_BUNDLE)
      .on("error", () => res.destroy())
      .pipe(res);
    return true;
  }
  return false;
}
