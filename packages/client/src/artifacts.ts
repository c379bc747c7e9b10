import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { basename, extname } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";

export type ArtifactKind = "screenshot" | "video" | "trace" | "log" | "other";

export interface ArtifactMeta {
  /** The file name shown and downloaded (no folders). Default: the file's own name. */
  name?: string;
  /** Default: from the content type (image → screenshot, video → video, text → log). */
  kind?: ArtifactKind;
  /** Default: from the file name's extension, else application/octet-stream. */
  contentType?: string;
  stepNumber?: number;
}

/** What the server stored: `url` is a signed download link (relative to the server), 30 minutes. */
export interface UploadedArtifact {
  id: number;
  executionId: number;
  stepNumber: number | null;
  kind: ArtifactKind;
  name: string;
  contentType: string;
  size: number;
  sha256: string;
  createdAt: string;
  url: string;
}

export interface ArtifactUploaderOptions {
  /** The server's base URL (http://host:port), as for createTestTrackClient. */
  url: string;
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Attempts after the first for a connection error or 502/503/504 (files and bytes only). */
  retries?: number;
}

/** An upload the server refused: `status` and `code` as the server answered them. */
export class ArtifactUploadError extends Error {
  override name = "ArtifactUploadError";
  constructor(
    message: string,
    readonly status: number,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

const TYPES: Record<string, string> = {
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".jpeg": "image/jpeg",
  ".webp": "image/webp",
  ".gif": "image/gif",
  ".webm": "video/webm",
  ".mp4": "video/mp4",
  ".zip": "application/zip",
  ".txt": "text/plain",
  ".log": "text/plain",
  ".json": "application/json",
  ".html": "text/html",
  ".svg": "image/svg+xml",
};

export function contentTypeOf(name: string): string {
  return TYPES[extname(name).toLowerCase()] ?? "application/octet-stream";
}

export function kindOf(contentType: string, name = ""): ArtifactKind {
  if (contentType.startsWith("image/")) return "screenshot";
  if (contentType.startsWith("video/")) return "video";
  if (/trace/i.test(name) && contentType === "application/zip") return "trace";
  if (contentType.startsWith("text/plain")) return "log";
  return "other";
}

/**
 * `uploadArtifact(executionId, fileOrStream, meta)`: streams a file (by path), bytes, or a
 * stream to POST /api/v1/executions/{id}/artifacts, never holding a file in memory. Files and
 * bytes are retried after a connection error or a 502/503/504; a stream cannot be replayed.
 */
export function createArtifactUploader(options: ArtifactUploaderOptions) {
  const base = options.url.replace(/\/+$/, "").replace(/\/trpc$/, "");
  const retries = options.retries ?? 3;

  return async function uploadArtifact(
    executionId: number,
    source: string | Uint8Array | Readable | ReadableStream<Uint8Array>,
    meta: ArtifactMeta = {},
  ): Promise<UploadedArtifact> {
    const fromPath = typeof source === "string";
    const name = meta.name ?? (fromPath ? basename(source) : "artifact");
    const contentType = meta.contentType ?? contentTypeOf(name);
    const query = new URLSearchParams({
      name,
      kind: meta.kind ?? kindOf(contentType, name),
      contentType,
    });
    if (meta.stepNumber !== undefined) query.set("stepNumber", String(meta.stepNumber));
    const target = new URL(`${base}/api/v1/executions/${executionId}/artifacts?${query}`);
    const token = typeof options.token === "function" ? await options.token() : options.token;
    const replayable = fromPath || source instanceof Uint8Array;

    for (let attempt = 0; ; attempt++) {
      const size = fromPath
        ? (await stat(source)).size
        : source instanceof Uint8Array
          ? source.byteLength
          : undefined;
      const body: Readable = fromPath
        ? createReadStream(source)
        : source instanceof Uint8Array
          ? Readable.from([source])
          : source instanceof Readable
            ? source
            : Readable.fromWeb(source as import("node:stream/web").ReadableStream);
      try {
        return await send(target, body, size, token);
      } catch (error) {
        const transient =
          !(error instanceof ArtifactUploadError) || [502, 503, 504].includes(error.status);
        if (!replayable || !transient || attempt >= retries) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
    }
  };
}

function send(
  target: URL,
  body: Readable,
  size: number | undefined,
  token: string | undefined,
): Promise<UploadedArtifact> {
  const request = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(target, {
      method: "POST",
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(size === undefined ? {} : { "content-length": String(size) }),
      },
    });
    req.once("response", (response: IncomingMessage) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.once("error", reject);
      response.once("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let answer: { code?: string; message?: string } = {};
        try {
          answer = JSON.parse(text) as typeof answer;
        } catch {}
        const status = response.statusCode ?? 0;
        if (status === 201) return resolve(answer as UploadedArtifact);
        reject(
          new ArtifactUploadError(
            `the artifact upload failed with ${status}: ${answer.message ?? text.slice(0, 200)}`,
            status,
            answer.code,
          ),
        );
      });
    });
    req.once("error", reject);
    // A refused upload answers before the body ends: the answer counts, not the broken pipe.
    pipeline(body, req).catch(() => {});
  });
}
