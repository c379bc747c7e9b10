import type { IncomingMessage } from "node:http";
import { authenticateToken, type Database, type PublicUser } from "@testtrack/core";
import type { Logger } from "pino";

export interface Session {
  user: PublicUser;
  tokenId: number;
}

/** What every procedure sees. `authenticate` resolves the bearer token once per request. */
export interface Context {
  db: Database;
  log: Logger;
  requestId: string;
  development: boolean;
  /** The bearer token sent with the request, if any. */
  token: string | null;
  authenticate(): Promise<Session>;
}

export interface ContextDeps {
  db: Database;
  log: Logger;
  development: boolean;
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
  const { db } = deps;
  return {
    db,
    log: request.log ?? deps.log,
    requestId: request.requestId,
    development: deps.development,
    token: request.token,
    authenticate() {
      const token = request.token;
      if (!token) return Promise.reject(new MissingTokenError());
      session ??= authenticateToken(db, token);
      return session;
    },
  };
}

export function requestContext(
  deps: ContextDeps,
  req: IncomingMessage & { id?: unknown; log?: Logger },
) {
  return createContext(deps, {
    token: bearerToken(req.headers.authorization),
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
