import type { IncomingMessage } from "node:http";
import { authenticateToken, type Database, type Session } from "@testtrack/core";
import type { TRPCRequestInfo } from "@trpc/server/http";
import type { Logger } from "pino";
import type { StepFeed } from "./live";
import type { ReadRouting } from "./readReplica";

export type { Session };

/** What every procedure sees. `authenticate` resolves the bearer token once per request. */
export interface Context {
  db: Database;
  /**
   * For lists, statistics, health and compare: the read replica (DATABASE_READ_URL) when it is
   * usable and this token has not written a moment ago, else the primary (`db`).
   */
  readonly readDb: Database;
  /** Called around every mutation: this token's reads stay on the primary for a while. */
  wrote(): void;
  log: Logger;
  requestId: string;
  development: boolean;
  /** The bearer token sent with the request, if any. */
  token: string | null;
  /** TESTTRACK_RETENTION_DAYS: the instance-wide retention horizon in days, or null. */
  retentionDays: number | null;
  /** Live step notifications; only the HTTP host has them (callers made in tests do not). */
  stepFeed: StepFeed | null;
  authenticate(): Promise<Session>;
}

export interface ContextDeps {
  db: Database;
  log: Logger;
  development: boolean;
  stepFeed?: StepFeed;
  reads?: ReadRouting;
  retentionDays?: number | null;
}

export function bearerToken(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1] ?? null;
}

export function createContext(
  deps: ContextDeps,
  request: { token: string | null; requestId: string; log?: Logger },
): Context {
  let session: Promise<Session> | undefined;
  const { db, reads } = deps;
  return {
    db,
    get readDb() {
      return reads ? reads.readerFor(request.token) : db;
    },
    wrote() {
      reads?.wrote(request.token);
    },
    log: request.log ?? deps.log,
    requestId: request.requestId,
    development: deps.development,
    token: request.token,
    retentionDays: deps.retentionDays ?? null,
    stepFeed: deps.stepFeed ?? null,
    authenticate() {
      const token = request.token;
      if (!token) return Promise.reject(new MissingTokenError());
      session ??= authenticateToken(db, token);
      return session;
    },
  };
}

/**
 * The token of a subscription's connection params. A browser's EventSource cannot send an
 * Authorization header, so `httpSubscriptionLink` sends `{ token }` in the URL instead. Only
 * subscriptions may do that: every other call keeps its token out of URLs (and so out of proxy
 * logs and browser history). Our request log never records query strings.
 */
export function connectionParamsToken(info: TRPCRequestInfo | undefined): string | null {
  if (info?.type !== "subscription") return null;
  const token = info.connectionParams?.token;
  return typeof token === "string" && /^\S{1,500}$/.test(token) ? token : null;
}

export function requestContext(
  deps: ContextDeps,
  req: IncomingMessage & { id?: unknown; log?: Logger },
  info?: TRPCRequestInfo,
) {
  return createContext(deps, {
    token: bearerToken(req.headers.authorization) ?? connectionParamsToken(info),
    requestId: String(req.id ?? ""),
    log: req.log,
  });
}

export class MissingTokenError extends Error {
  override name = "MissingTokenError";
  constructor() {
    super("sign in first: send Authorization: Bearer <token>");
  }
}
