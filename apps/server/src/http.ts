import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { DatabaseHandle } from "@testtrack/core";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import cors from "cors";
import pino, { type Logger } from "pino";
import { pinoHttp } from "pino-http";
import { type ArtifactSettings, createArtifactRoutes } from "./artifacts";
import type { Config } from "./config";
import { requestContext } from "./context";
import { serveDashboard } from "./dashboard";
import { createStepFeed } from "./live";
import { createReadRouting, type ReadReplicaSettings } from "./readReplica";
import { isRestPath } from "./rest/paths";
import { appRouter } from "./router";

export const TRPC_PATH = "/trpc";

export interface HttpHost {
  server: Server;
  /** Listens and resolves with the base URL (http://host:port). */
  listen(): Promise<string>;
  /** Stops accepting connections and waits for in-flight requests to finish. */
  close(): Promise<void>;
}

type HostConfig = Pick<
  Config,
  "port" | "host" | "corsOrigins" | "maxBodyBytes" | "maxBatchSize" | "development"
> & {
  /** A streaming replica for lists, statistics, health and compare (DATABASE_READ_URL). */
  readReplica?: ReadReplicaSettings;
  /** The built dashboard (apps/web/dist) to serve at `/`; none when absent. */
  dashboardDir?: string;
  /** How often a quiet live stream re-checks its access (default: as often as it pings). */
  liveRecheckIntervalMs?: number;
  /** The artifact store and limits; without them the artifact routes answer 503. */
  artifacts?: ArtifactSettings;
  /** TESTTRACK_RETENTION_DAYS, for retention.preview (none: null). */
  retentionDays?: number | null;
};

const REQUEST_ID = /^[\w.:-]{1,64}$/;

// What each path answers; any other method is a 405 before it reaches a handler (TRACE, for one,
// makes the fetch Request that tRPC builds throw).
const API_METHODS = ["GET", "HEAD", "POST", "OPTIONS"];
const PAGE_METHODS = ["GET", "HEAD"];

export function createHttpHost(
  config: HostConfig,
  database: DatabaseHandle,
  log: Logger,
): HttpHost {
  const stepFeed = createStepFeed(database, log, {
    recheckIntervalMs: config.liveRecheckIntervalMs,
  });
  const reads = createReadRouting(database, config.readReplica, log);
  const deps = {
    db: database.db,
    log,
    development: config.development,
    stepFeed,
    reads,
    retentionDays: config.retentionDays ?? null,
  };
  const logRequests = pinoHttp({
    logger: log,
    genReqId: (req, res) => {
      const given = req.headers["x-request-id"];
      const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
      res.setHeader("x-request-id", id);
      return id;
    },
    // Only the method and path: never headers (tokens) or query inputs.
    serializers: {
      req: (req: { id: unknown; method: string; url: string }) => ({
        id: req.id,
        method: req.method,
        path: req.url.split("?")[0],
      }),
      res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      // pino-http makes up an Error for every 5xx answer; its stack says nothing but pino-http's.
      err: (err: Error) =>
        /^failed with status code \d+$/.test(err.message)
          ? { message: err.message }
          : pino.stdSerializers.err(err),
    },
    customLogLevel: (_req, res, error) =>
      error || res.statusCode >= 500 ? "error" : res.statusCode >= 400 ? "warn" : "info",
    customSuccessMessage: (req, res) => `${req.method} ${req.url?.split("?")[0]} ${res.statusCode}`,
  });
  const allowCors = cors({
    origin: (origin, callback) => callback(null, !origin || config.corsOrigins.includes(origin)),
    maxAge: 600,
  });
  const trpc = createHTTPHandler({
    router: appRouter,
    basePath: `${TRPC_PATH}/`,
    maxBodySize: config.maxBodyBytes,
    maxBatchSize: config.maxBatchSize,
    createContext: ({ req, info }) => requestContext(deps, req, info),
    onError: ({ error, path, ctx }) => {
      if (error.code === "INTERNAL_SERVER_ERROR") {
        (ctx?.log ?? log).error({ err: error.cause ?? error, path }, "procedure failed");
      }
    },
  });

  // The REST layer (trpc-to-openapi and what it imports: about 0.2 s of a start) loads while the
  // server migrates and starts listening; a REST request that comes sooner waits for it.
  const rest = import("./rest/handler").then(({ createRestHandler }) =>
    createRestHandler({ deps, maxBodyBytes: config.maxBodyBytes, log }),
  );
  // A server whose REST layer failed to load is not healthy: /healthz answers 503 then.
  let restFailed = false;
  rest.catch((error: unknown) => {
    restFailed = true;
    log.error({ err: error }, "the REST layer did not load");
  });
  const artifactRoutes = createArtifactRoutes({ db: database.db, log, settings: config.artifacts });

  let shuttingDown = false;
  const apiResponses = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    logRequests(req, res);
    if (shuttingDown) res.setHeader("connection", "close");
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    // REST (/api/v1, /api/docs) answers its own methods and errors.
    if (isRestPath(path)) {
      // The raw-body artifact upload and the download first; every other route is a procedure's.
      return allowCors(req, res, () => {
        if (artifactRoutes.handle(req, res)) return;
        rest.then(
          (handle) => handle(req, res),
          () =>
            sendJson(res, 500, {
              code: "INTERNAL_SERVER_ERROR",
              message: "REST is not available; the server log says why",
            }),
        );
      });
    }
    const isApi = path === TRPC_PATH || path.startsWith(`${TRPC_PATH}/`);
    const allowed = isApi ? API_METHODS : PAGE_METHODS;
    if (!allowed.includes(req.method ?? "")) return methodNotAllowed(res, req.method, allowed);
    if (path === "/healthz") return void health(database, res, restFailed);
    if (isApi) {
      apiResponses.add(res);
      res.once("close", () => apiResponses.delete(res));
      return allowCors(req, res, () => trpc(req, res));
    }
    const notFound = () =>
      sendJson(res, 404, { error: `nothing at ${path}; the API is at ${TRPC_PATH}` });
    if (!config.dashboardDir) return notFound();
    serveDashboard(config.dashboardDir, req, res).then(
      (served) => served || notFound(),
      (error: unknown) => {
        log.error({ err: error, path }, "serving the dashboard failed");
        res.destroy();
      },
    );
  });
  server.keepAliveTimeout = 5_000;
  // A request Node's HTTP parser refuses (a URL or headers over its 16 KB, a malformed request
  // line) gets an answer the client can read, instead of a socket destroyed while it still sends:
  // the rest of what it sends is read and dropped until it is done (or 5 s have passed).
  server.on("clientError", (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const tooLarge = error.code === "HPE_HEADER_OVERFLOW";
    const body = JSON.stringify({
      code: "BAD_REQUEST",
      message: tooLarge
        ? "the URL or headers are longer than 16 KB; send long values in the request body"
        : "the request is not valid HTTP",
    });
    socket.on("data", () => {});
    socket.setTimeout(5_000, () => socket.destroy());
    socket.end(
      `HTTP/1.1 ${tooLarge ? "431 Request Header Fields Too Large" : "400 Bad Request"}\r\n` +
        `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
        `connection: close\r\n\r\n${body}`,
    );
  });

  return {
    server,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.port, config.host, () => {
          const address = server.address();
          const port = typeof address === "object" && address ? address.port : config.port;
          const host = config.host.includes(":") ? `[${config.host}]` : config.host;
          resolve(`http://${host}:${port}`);
        });
      }),
    close: async () => {
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Live streams never finish by themselves: cut them, and their clients reconnect (to
      // another instance) resuming from their last event.
      for (const res of apiResponses) {
        if (String(res.getHeader("content-type")).startsWith("text/event-stream")) res.destroy();
      }
      // Then any subscription still starting ends instead of holding the server open.
      await stepFeed.close();
      await closed;
      await reads.close();
    },
  };
}

async function health(database: DatabaseHandle, res: ServerResponse, restFailed: boolean) {
  if (restFailed) {
    return sendJson(res, 503, { status: "unavailable", reason: "the REST layer did not load" });
  }
  try {
    await database.ping();
    sendJson(res, 200, { status: "ok", database: database.engine });
  } catch {
    sendJson(res, 503, { status: "unavailable", database: database.engine });
  }
}

/** The error shape tRPC answers with, so clients parse it like any other error. */
function methodNotAllowed(res: ServerResponse, method: string | undefined, allowed: string[]) {
  res.setHeader("allow", allowed.join(", "));
  sendJson(res, 405, {
    error: {
      message: `${method ?? "this"} is not supported here; use ${allowed.join(", ")}`,
      code: -32005,
      data: { code: "METHOD_NOT_SUPPORTED", httpStatus: 405 },
    },
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(body));
}
