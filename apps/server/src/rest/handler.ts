import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import type { Logger } from "pino";
import { createOpenApiNodeHttpHandler } from "trpc-to-openapi";
import { ZodError } from "zod";
import { type ContextDeps, requestContext } from "../context";
import { describeZodError, inputIssues } from "../errors";
import { serveDocs } from "./docs";
import { openApiDocument } from "./document";
import { DOCS_PATH, isDocsPath, OPENAPI_PATH, REST_BASE_PATH } from "./paths";
import { restRouter } from "./router";

/** Every error of /api/v1: the tRPC code, a message a person can act on, the invalid fields. */
export interface RestError {
  code: TRPC_ERROR_CODE_KEY;
  message: string;
  issues?: { path: (string | number)[]; message: string }[];
  requestId?: string;
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

const MESSAGES: Partial<Record<TRPC_ERROR_CODE_KEY, string>> = {
  INTERNAL_SERVER_ERROR: "internal server error; the request id in the server log has the details",
  PARSE_ERROR: "the request body is not valid JSON",
  PAYLOAD_TOO_LARGE:
    "the request body is too large for this server; send fewer steps or a shorter log per call",
};

function toRestError(error: TRPCError, method: string, path: string): RestError {
  const cause = error.cause;
  if (cause instanceof ZodError) {
    const issues = inputIssues(cause).map((issue) => ({
      path: issue.path.map((key) => (typeof key === "symbol" ? String(key) : key)),
      message: issue.message,
    }));
    return { code: "BAD_REQUEST", message: describeZodError(cause), issues };
  }
  if (error.code === "NOT_FOUND" && error.message === "Not found") {
    return { code: "NOT_FOUND", message: `no route ${method} ${path}; see ${OPENAPI_PATH}` };
  }
  return { code: error.code, message: MESSAGES[error.code] ?? error.message };
}

/** /api/v1 (the procedures' REST routes and their OpenAPI document) and /api/docs. */
export function createRestHandler(options: {
  deps: ContextDeps;
  maxBodyBytes: number;
  log: Logger;
}) {
  const errors = new WeakMap<IncomingMessage, RestError>();
  const routes = createOpenApiNodeHttpHandler({
    router: restRouter,
    maxBodySize: options.maxBodyBytes,
    createContext: ({ req }) => requestContext(options.deps, req),
    onError: ({ error, req, path, ctx }) => {
      const url = new URL(req.url ?? "/", "http://localhost");
      errors.set(req, toRestError(error, req.method ?? "", url.pathname));
      if (error.code === "INTERNAL_SERVER_ERROR") {
        (ctx?.log ?? options.log).error({ err: error.cause ?? error, path }, "procedure failed");
      }
    },
  });

  return (req: IncomingMessage & { id?: unknown }, res: ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const method = req.method ?? "";
    const requestId = String(req.id ?? "") || undefined;
    const fail = (status: number, error: RestError) =>
      sendJson(res, status, { ...error, requestId });
    if (!METHODS.includes(method)) {
      res.setHeader("allow", METHODS.join(", "));
      return fail(405, { code: "METHOD_NOT_SUPPORTED", message: `${method} is not supported` });
    }
    const readOnly = method === "GET" || method === "HEAD";
    if (path === OPENAPI_PATH && readOnly) return sendJson(res, 200, openApiDocument());
    if (isDocsPath(path)) {
      if (readOnly && serveDocs(path, res)) return;
      return fail(404, {
        code: "NOT_FOUND",
        message: `nothing at ${path}; the docs are at ${DOCS_PATH}`,
      });
    }

    // trpc-to-openapi routes by the path under /api/v1 and reads only `application/json` bodies.
    const originalUrl = req.url ?? "/";
    req.url = originalUrl.slice(REST_BASE_PATH.length) || "/";
    const query = queryOf(req.url);
    if (!query) {
      return fail(400, {
        code: "BAD_REQUEST",
        message: "invalid input: __proto__: not a parameter of any route",
        issues: [{ path: ["__proto__"], message: "not a parameter of any route" }],
      });
    }
    (req as { query?: unknown }).query = query;
    const contentType = req.headers["content-type"];
    if (contentType?.toLowerCase().startsWith("application/json")) {
      req.headers["content-type"] = "application/json";
    } else if (!contentType && !hasBody(req)) {
      req.headers["content-type"] = "application/json";
    }
    const end = res.end.bind(res) as (body?: string) => ServerResponse;
    res.end = ((body?: string) => {
      req.url = originalUrl; // for the request log
      const error = errors.get(req);
      if (!error || res.statusCode < 400) return end(body);
      if (res.statusCode === 401) res.setHeader("www-authenticate", "Bearer");
      return end(JSON.stringify({ ...error, requestId }));
    }) as ServerResponse["end"];
    return routes(req, res).catch((error: unknown) => {
      options.log.error({ err: error }, "REST request failed");
      if (!res.headersSent)
        fail(500, toRestError(new TRPCError({ code: "INTERNAL_SERVER_ERROR" }), method, path));
      else res.destroy();
    });
  };
}

/**
 * The query as trpc-to-openapi reads it (each name's values), parsed here into an object with no
 * prototype: its own parser breaks (a 500) on names like `constructor`. Null for `__proto__`.
 */
function queryOf(url: string): Record<string, string[]> | null {
  const query: Record<string, string[]> = Object.create(null);
  for (const [key, value] of new URL(url, "http://localhost").searchParams) {
    if (key === "__proto__") return null;
    query[key] ??= [];
    query[key].push(value);
  }
  return query;
}

function hasBody(req: IncomingMessage) {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}
