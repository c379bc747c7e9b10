import type { IncomingMessage, ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import {
  ArtifactLimitError,
  ArtifactMeter,
  type ArtifactStore,
  type ArtifactUploadInput,
  artifactBySignature,
  artifactForActor,
  authenticateToken,
  beginArtifactUpload,
  completeArtifactUpload,
  type Database,
  discardArtifactUpload,
  InvalidInputError,
  type PendingArtifact,
} from "@testtrack/core";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import type { Logger } from "pino";
import { bearerToken, MissingTokenError } from "./context";
import { toTRPCError } from "./errors";

/** Where artifact bytes go, and how many and how large they may be. */
export interface ArtifactSettings {
  store: ArtifactStore;
  maxBytes: number;
  maxPerExecution: number;
}

const UPLOAD_PATH = /^\/api\/v1\/executions\/([^/]+)\/artifacts$/;
const DOWNLOAD_PATH = /^\/api\/v1\/artifacts\/([^/]+)$/;

/** Types a browser may show in place: none of them can run script. */
const INLINE_TYPES = new Set([
  "image/png",
  "image/jpeg",
  "image/webp",
  "image/gif",
  "video/webm",
  "video/mp4",
  "text/plain",
]);

// After a 413, this much of the rest of the body is read (so the client sees the answer) before
// the connection is cut.
const DRAIN_AFTER_LIMIT_BYTES = 16 * 1024 * 1024;

type Request = IncomingMessage & { id?: unknown; log?: Logger };

/**
 * The two artifact routes that cannot be procedures: the raw-body upload, streamed to the store
 * (never buffered whole), and the download with Range, ETag and the headers that keep an
 * uploaded page from running in our origin. `handle` answers false for any other request.
 */
export function createArtifactRoutes(deps: {
  db: Database;
  log: Logger;
  settings: ArtifactSettings | undefined;
}) {
  const { db } = deps;

  async function upload(req: Request, res: ServerResponse, executionId: string) {
    const settings = deps.settings;
    if (!settings) return fail(res, req, 503, "SERVICE_UNAVAILABLE", "artifacts are not enabled");
    const declared = Number(req.headers["content-length"] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > settings.maxBytes) {
      return refuseBody(req, res, tooLarge(settings.maxBytes));
    }
    const actor = (await authenticateToken(db, requireToken(req))).actor;
    const pending = await beginArtifactUpload(db, actor, uploadInput(req, executionId), settings);
    const meter = new ArtifactMeter(settings.maxBytes);
    try {
      const [fed, stored] = await Promise.allSettled([
        feed(req, meter),
        settings.store.put(pending.storageKey, meter, pending.input.contentType),
      ]);
      if (fed.status === "rejected") throw fed.reason;
      if (stored.status === "rejected") throw stored.reason;
      const artifact = await completeArtifactUpload(
        db,
        actor,
        pending,
        { size: meter.byteCount, sha256: meter.digest() },
        settings,
      );
      res.setHeader("location", artifact.url);
      sendJson(res, 201, artifact);
    } catch (error) {
      await discard(pending, settings.store);
      if (error instanceof ArtifactLimitError) return refuseBody(req, res, error);
      throw error;
    }
  }

  async function discard(pending: PendingArtifact, store: ArtifactStore) {
    // If this fails too, the guard row stays and the deletion worker removes the bytes later.
    await discardArtifactUpload(db, store, pending).catch((error: unknown) =>
      deps.log.warn({ err: error }, "discarding a failed upload failed; the outbox will retry"),
    );
  }

  async function download(req: Request, res: ServerResponse, rawId: string) {
    const settings = deps.settings;
    if (!settings) return fail(res, req, 503, "SERVICE_UNAVAILABLE", "artifacts are not enabled");
    const id = parseId(rawId, "artifact");
    const url = new URL(req.url ?? "/", "http://localhost");
    const signature = url.searchParams.get("signature");
    const artifact =
      signature !== null || url.searchParams.has("expires")
        ? await artifactBySignature(db, id, url.searchParams.get("expires"), signature)
        : await artifactForActor(db, (await authenticateToken(db, requireToken(req))).actor, id);

    const etag = `"${artifact.sha256}"`;
    const essence = artifact.contentType.split(";")[0]?.trim() ?? "";
    const inline = INLINE_TYPES.has(essence);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("content-security-policy", "sandbox");
    res.setHeader("cross-origin-resource-policy", "same-origin");
    res.setHeader("cache-control", "private, max-age=300");
    res.setHeader("etag", etag);
    res.setHeader("accept-ranges", "bytes");
    res.setHeader("content-type", artifact.contentType);
    res.setHeader("content-disposition", disposition(inline, artifact.name));
    if (matchesEtag(req.headers["if-none-match"], etag)) {
      res.statusCode = 304;
      return res.end();
    }
    const ifRange = req.headers["if-range"];
    const range = ifRange && ifRange !== etag ? null : parseRange(req.headers.range, artifact.size);
    if (range === "unsatisfiable") {
      res.setHeader("content-range", `bytes */${artifact.size}`);
      return fail(
        res,
        req,
        416,
        "BAD_REQUEST",
        `the range is outside the file's ${artifact.size} bytes`,
      );
    }
    const length = range ? range.end - range.start + 1 : artifact.size;
    res.statusCode = range ? 206 : 200;
    res.setHeader("content-length", length);
    if (range) res.setHeader("content-range", `bytes ${range.start}-${range.end}/${artifact.size}`);
    if (req.method === "HEAD" || length === 0) return res.end();
    const body = await settings.store.get(artifact.storageKey, range ?? undefined);
    await pipeline(body, res).catch((error: unknown) => {
      if (!res.writableFinished) (req.log ?? deps.log).debug({ err: error }, "download cut short");
    });
  }

  function refuseBody(req: Request, res: ServerResponse, error: ArtifactLimitError) {
    // Read (and drop) a little more of the body so the client is still listening for the answer.
    let drained = 0;
    req.unpipe();
    req.on("data", (chunk: Buffer) => {
      drained += chunk.length;
      if (drained > DRAIN_AFTER_LIMIT_BYTES) req.destroy();
    });
    req.resume();
    res.setHeader("connection", "close");
    fail(res, req, 413, "PAYLOAD_TOO_LARGE", error.message);
  }

  return {
    /** Answers the request if it is an artifact route; false otherwise. */
    handle(req: Request, res: ServerResponse): boolean {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      const method = req.method ?? "";
      const uploadMatch = method === "POST" ? UPLOAD_PATH.exec(path) : null;
      const downloadMatch = method === "GET" || method === "HEAD" ? DOWNLOAD_PATH.exec(path) : null;
      const work = uploadMatch?.[1]
        ? upload(req, res, uploadMatch[1])
        : downloadMatch?.[1]
          ? download(req, res, downloadMatch[1])
          : null;
      if (!work) return false;
      work.catch((error: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (error instanceof UploadAborted) return void res.destroy();
        if (error instanceof ArtifactLimitError) return refuseBody(req, res, error);
        const mapped = toTRPCError(error);
        if (!mapped) (req.log ?? deps.log).error({ err: error }, "artifact request failed");
        const code = mapped?.code ?? "INTERNAL_SERVER_ERROR";
        const status = mapped ? getHTTPStatusCodeFromError(mapped) : 500;
        const message =
          mapped?.message ??
          "internal server error; the request id in the server log has the details";
        if (method === "POST" && !req.complete) {
          req.resume();
          res.setHeader("connection", "close");
        }
        fail(res, req, status, code, message);
      });
      return true;
    },
  };
}

class UploadAborted extends Error {
  override name = "UploadAborted";
}

/**
 * Pipes the request body into the meter. Unlike `pipeline`, a meter failing (over the limit)
 * leaves the request open, so the 413 can still reach the client.
 */
function feed(req: IncomingMessage, meter: ArtifactMeter): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => {
      const error = new UploadAborted("the client stopped sending");
      meter.destroy(error);
      reject(error);
    };
    meter.once("error", reject);
    // The connection may have closed while the upload was being checked.
    if (req.destroyed) return aborted();
    req.once("error", aborted);
    req.once("close", () => {
      if (!req.complete) aborted();
    });
    meter.once("finish", resolve);
    req.pipe(meter);
  });
}

function requireToken(req: IncomingMessage): string {
  const token = bearerToken(req.headers.authorization);
  if (!token) throw new MissingTokenError();
  return token;
}

function parseId(raw: string, what: string): number {
  if (!/^[1-9]\d{0,9}$/.test(raw) || Number(raw) > 2_147_483_647) {
    throw new InvalidInputError(`${what} id must be a positive integer`);
  }
  return Number(raw);
}

/** The upload's description: query parameters, or X-Artifact-* headers and Content-Type. */
function uploadInput(req: IncomingMessage, executionId: string): ArtifactUploadInput {
  const query = new URL(req.url ?? "/", "http://localhost").searchParams;
  const header = (name: string) => {
    const value = req.headers[name];
    return typeof value === "string" ? value : undefined;
  };
  const name = query.get("name") ?? decodeHeader(header("x-artifact-name"));
  const step = query.get("stepNumber") ?? header("x-artifact-step");
  return {
    executionId: parseId(executionId, "execution"),
    name: name as string,
    kind: (query.get("kind") ?? header("x-artifact-kind")) as ArtifactUploadInput["kind"],
    contentType: query.get("contentType") ?? header("content-type"),
    stepNumber: step === undefined || step === null ? undefined : Number(step),
  };
}

function decodeHeader(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header === "*" || header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** One `bytes=` range (the only kind browsers send for media); null for none or a form we ignore. */
export function parseRange(
  header: string | undefined,
  size: number,
): { start: number; end: number } | "unsatisfiable" | null {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return null;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

/** `attachment` (or `inline`) with an ASCII-only name and the exact one in RFC 5987 form. */
export function disposition(inline: boolean, name: string): string {
  const ascii = name.replace(/[^\w.\- ]/g, "_").slice(0, 150) || "artifact";
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16)}`,
  );
  return `${inline ? "inline" : "attachment"}; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

function tooLarge(maxBytes: number) {
  return new ArtifactLimitError(`the file is larger than this server's limit of ${maxBytes} bytes`);
}

function fail(res: ServerResponse, req: Request, status: number, code: string, message: string) {
  const requestId = String(req.id ?? "") || undefined;
  if (status === 401) res.setHeader("www-authenticate", "Bearer");
  // An error is never an artifact: drop the download's headers.
  res.removeHeader("content-disposition");
  res.removeHeader("etag");
  res.removeHeader("content-length");
  sendJson(res, status, { code, message, requestId });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}
