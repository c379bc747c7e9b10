import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `pnpm --filter @testtrack/web build` writes the dashboard. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL("../../web/dist", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".txt": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".ico": "image/x-icon",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
};

// The dashboard loads only its own scripts and styles and talks only to this origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join("; ");

export const NOT_BUILT_MESSAGE =
  "The TestTrack dashboard is not built yet. Run `pnpm --filter @testtrack/web build` " +
  "(`pnpm start` does it for you), then reload. The API is at /trpc.\n";

/**
 * Serves the built dashboard: its files as they are, and index.html for any other page a
 * browser asks for (the dashboard routes in the browser). Answers false when the request is not
 * for the dashboard, so the caller can answer 404.
 */
export async function serveDashboard(
  root: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<boolean> {
  if (req.method !== "GET" && req.method !== "HEAD") return false;
  const path = requestPath(req.url ?? "/");
  if (path === null) return false;
  const wantsPage = path === "/" || (req.headers.accept ?? "").includes("text/html");
  const file = await fileWithin(root, path);
  if (file) {
    sendFile(req, res, file, path.startsWith("/assets/"));
    return true;
  }
  if (!wantsPage) return false;
  const index = await fileWithin(root, "/index.html");
  if (!index) {
    res.statusCode = 503;
    res.setHeader("content-type", "text/plain; charset=utf-8");
    res.end(req.method === "HEAD" ? undefined : NOT_BUILT_MESSAGE);
    return true;
  }
  sendFile(req, res, index, false);
  return true;
}

/** The decoded path, or null for one no file can have (bad escapes, NUL, dot segments). */
function requestPath(url: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(url.split("?")[0] ?? "/");
  } catch {
    return null;
  }
  if (path.includes("\0") || path.includes("\\")) return null;
  if (path.split("/").some((segment) => segment.startsWith("."))) return null;
  return path;
}

interface StaticFile {
  path: string;
  size: number;
}

/** The regular file at `path` under `root`, never outside it. */
async function fileWithin(root: string, path: string): Promise<StaticFile | null> {
  const base = resolve(root);
  const file = resolve(join(base, path));
  if (!file.startsWith(base + sep)) return null;
  try {
    const info = await stat(file);
    return info.isFile() ? { path: file, size: info.size } : null;
  } catch {
    return null;
  }
}

function sendFile(req: IncomingMessage, res: ServerResponse, file: StaticFile, immutable: boolean) {
  const type = CONTENT_TYPES[extname(file.path).toLowerCase()] ?? "application/octet-stream";
  res.statusCode = 200;
  res.setHeader("content-type", type);
  res.setHeader("content-length", file.size);
  res.setHeader("x-content-type-options", "nosniff");
  // Vite names built assets by their content hash; everything else is checked on each visit.
  res.setHeader("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
  if (type.startsWith("text/html")) {
    res.setHeader("content-security-policy", CONTENT_SECURITY_POLICY);
    res.setHeader("referrer-policy", "no-referrer");
  }
  if (req.method === "HEAD") return void res.end();
  createReadStream(file.path)
    .on("error", () => res.destroy())
    .pipe(res);
}
