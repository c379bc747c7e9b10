import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, atLeast, projectRoleSql } from "./actor";
import { type Database, queryRows } from "./db";
import { ForbiddenError, NotFoundError, RateLimitedError, UnauthorizedError } from "./errors";
import { id, isoDateTime, LIMITS, text } from "./limits";
import { decoyPasswordHash, verifyPassword } from "./passwords";
import {
  apiTokens,
  loginThrottle,
  PROJECT_ROLES,
  type ProjectRole,
  projects,
  type TokenKind,
  users,
} from "./schema";
import { email, findUserByEmail, type PublicUser, publicUserColumns } from "./users";

const TOKEN_PREFIX = "tt_";
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

export const loginInput = z.strictObject({
  email,
  password: z.string().min(1, "is required").max(256),
});

export const createApiTokenInput = z
  .strictObject({
    name: text().trim().min(1).max(LIMITS.name),
    expiresAt: isoDateTime
      .refine((date) => date.getTime() > Date.now(), "must be in the future")
      .optional(),
    /** A project token: it reaches this project only. */
    projectId: id.optional(),
    /** The most a project token may do there (default member: record results). */
    role: z.enum(PROJECT_ROLES).optional(),
  })
  .refine((input) => input.role === undefined || input.projectId !== undefined, {
    message: "role applies to project tokens only: send projectId too",
    path: ["role"],
  });

export const revokeApiTokenInput = z.strictObject({ id });

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** A 256-bit random token; only its SHA-256 hash is stored. */
function newToken(): { token: string; tokenHash: string; prefix: string } {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  return { token, tokenHash: hashToken(token), prefix: token.slice(0, 10) };
}

async function issueToken(
  db: Database,
  userId: number,
  kind: TokenKind,
  name: string,
  expiresAt: Date | null,
  scope: { projectId: number; role: ProjectRole } | null = null,
) {
  const { token, tokenHash, prefix } = newToken();
  const [row] = await db
    .insert(apiTokens)
    .values({
      userId,
      kind,
      name,
      tokenHash,
      prefix,
      expiresAt,
      projectId: scope?.projectId ?? null,
      projectRole: scope?.role ?? null,
    })
    .returning({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      expiresAt: apiTokens.expiresAt,
      projectId: apiTokens.projectId,
      role: apiTokens.projectRole,
    });
  if (!row) throw new Error("token insert returned no row");
  return { ...row, token };
}

export interface LoginResult {
  token: string;
  expiresAt: Date;
  user: Pick<PublicUser, "id" | "email" | "name" | "role">;
}

/**
 * Checks a password and issues a session token. At most LOGIN_MAX_FAILURES attempts per email
 * are checked within LOGIN_WINDOW_MS; later ones are refused until the window ends. Each attempt
 * reserves its place before the password is checked, so parallel guesses (on any number of server
 * instances) cannot slip past the limit; a successful login gives its own place back.
 */
export async function login(
  db: Database,
  raw: z.input<typeof loginInput>,
  now = new Date(),
): Promise<LoginResult> {
  const input = loginInput.parse(raw);
  const attempt = await reserveLoginAttempt(db, input.email, now);
  const user = await findUserByEmail(db, input.email);
  const ok = await verifyPassword(
    user?.passwordHash ?? (await decoyPasswordHash()),
    input.password,
  );
  if (!user || !ok) throw new UnauthorizedError("email or password is incorrect");
  await releaseLoginAttempt(db, input.email, attempt.windowStartedAt);
  const expiresAt = new Date(now.getTime() + SESSION_TTL_MS);
  const issued = await issueToken(db, user.id, "session", "login", expiresAt);
  return {
    token: issued.token,
    expiresAt,
    user: { id: user.id, email: user.email, name: user.name, role: user.role },
  };
}

/**
 * Counts an attempt in one upsert (the row lock orders concurrent ones) and refuses it when the
 * window already holds LOGIN_MAX_FAILURES. Unknown emails are counted too, so a throttled answer
 * tells nothing about which accounts exist.
 */
async function reserveLoginAttempt(db: Database, address: string, now: Date) {
  const at = now.toISOString();
  const windowStart = new Date(now.getTime() - LOGIN_WINDOW_MS).toISOString();
  const current = sql`login_throttle.window_started_at > ${windowStart}::timestamptz`;
  const [row] = await queryRows<{ attempts: number; window_started_at: Date | string }>(
    db,
    sql`insert into login_throttle (email, failures, window_started_at, locked_until)
        values (${address}, 1, ${at}::timestamptz, null)
        on conflict (email) do update set
          failures = case when ${current}
            then least(login_throttle.failures + 1, ${LOGIN_MAX_FAILURES + 1}) else 1 end,
          window_started_at = case when ${current}
            then login_throttle.window_started_at else ${at}::timestamptz end,
          locked_until = case when ${current} and login_throttle.failures + 1 >= ${LOGIN_MAX_FAILURES}
            then login_throttle.window_started_at + ${`${LOGIN_WINDOW_MS} milliseconds`}::interval
            else null end
        returning failures as attempts, window_started_at`,
  );
  if (!row) throw new Error("login_throttle upsert returned no row");
  const windowStartedAt = new Date(row.window_started_at);
  if (row.attempts > LOGIN_MAX_FAILURES) {
    const endsAt = windowStartedAt.getTime() + LOGIN_WINDOW_MS;
    const retryAfterSeconds = Math.max(1, Math.ceil((endsAt - now.getTime()) / 1000));
    throw new RateLimitedError(
      `too many failed logins for this account; try again in ${retryAfterSeconds} s`,
      retryAfterSeconds,
    );
  }
  return { windowStartedAt };
}

/** A successful attempt is no failure: its place in the window is given back. */
async function releaseLoginAttempt(db: Database, address: string, windowStartedAt: Date) {
  await db
    .update(loginThrottle)
    .set({ failures: sql`greatest(${loginThrottle.failures} - 1, 0)` })
    .where(
      and(eq(loginThrottle.email, address), eq(loginThrottle.windowStartedAt, windowStartedAt)),
    );
}

export interface Session {
  tokenId: number;
  user: PublicUser;
  /** Who the token acts as: its user, narrowed to one project for a project token. */
  actor: Actor;
}

/** Resolves a bearer token to its user; expired, revoked or unknown tokens are UNAUTHORIZED. */
export async function authenticateToken(
  db: Database,
  token: string,
  now = new Date(),
): Promise<Session> {
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      lastUsedAt: apiTokens.lastUsedAt,
      scopeProjectId: apiTokens.projectId,
      scopeRole: apiTokens.projectRole,
      personalProjectId: projects.id,
      user: publicUserColumns,
    })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(projects, eq(projects.personalUserId, users.id))
    .where(
      and(
        eq(apiTokens.tokenHash, hashToken(token)),
        isNull(apiTokens.revokedAt),
        or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)),
      ),
    )
    .limit(1);
  if (!row) throw new UnauthorizedError("the token is invalid, expired or revoked");
  // Written at most once a minute per token, so reads do not turn into a write each.
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.tokenId));
  }
  const scope =
    row.scopeProjectId !== null && row.scopeRole !== null
      ? { projectId: row.scopeProjectId, role: row.scopeRole }
      : null;
  return {
    tokenId: row.tokenId,
    user: row.user,
    actor: {
      id: row.user.id,
      role: row.user.role,
      scope,
      personalProjectId: row.personalProjectId,
    },
  };
}

/**
 * Issues an API token (shown this once). A project token reaches `projectId` only, with at most
 * `role`, which may not exceed the caller's own role there. A project token cannot issue tokens:
 * it could otherwise mint itself a wider one.
 */
export async function createApiToken(
  db: Database,
  actor: Actor,
  raw: z.input<typeof createApiTokenInput>,
) {
  const input = createApiTokenInput.parse(raw);
  assertUserToken(actor);
  let scope: { projectId: number; role: ProjectRole } | null = null;
  if (input.projectId !== undefined) {
    const role = input.role ?? "member";
    const [row] = await queryRows<{ role: ProjectRole | null }>(
      db,
      sql`select ${projectRoleSql(actor, input.projectId)} as role`,
    );
    const held = assertRole(row?.role, "viewer", "Project", input.projectId);
    if (!atLeast(held, role)) {
      throw new ForbiddenError(
        `your role in project ${input.projectId} is ${held}; a token cannot get more (${role})`,
      );
    }
    scope = { projectId: input.projectId, role };
  }
  return issueToken(db, actor.id, "api", input.name, input.expiresAt ?? null, scope);
}

function assertUserToken(actor: Actor) {
  if (actor.scope) {
    throw new ForbiddenError("a project token cannot manage tokens; sign in as the user instead");
  }
}

export async function listApiTokens(db: Database, actor: Actor) {
  assertUserToken(actor);
  return db
    .select({
      id: apiTokens.id,
      name: apiTokens.name,
      prefix: apiTokens.prefix,
      expiresAt: apiTokens.expiresAt,
      lastUsedAt: apiTokens.lastUsedAt,
      revokedAt: apiTokens.revokedAt,
      createdAt: apiTokens.createdAt,
      projectId: apiTokens.projectId,
      role: apiTokens.projectRole,
    })
    .from(apiTokens)
    .where(and(eq(apiTokens.userId, actor.id), eq(apiTokens.kind, "api")))
    .orderBy(desc(apiTokens.createdAt), desc(apiTokens.id));
}

/** Revokes one of the actor's own API tokens; revoking twice is harmless. */
export async function revokeApiToken(
  db: Database,
  actor: Actor,
  raw: z.input<typeof revokeApiTokenInput>,
) {
  const input = revokeApiTokenInput.parse(raw);
  assertUserToken(actor);
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: sql`coalesce(${apiTokens.revokedAt}, now())` })
    .where(and(eq(apiTokens.id, input.id), eq(apiTokens.userId, actor.id)))
    .returning({ id: apiTokens.id, revokedAt: apiTokens.revokedAt });
  if (!row) throw new NotFoundError("API token", input.id);
  return row;
}

/** Ends the session the given token belongs to. */
export async function revokeTokenById(db: Database, tokenId: number) {
  await db.update(apiTokens).set({ revokedAt: new Date() }).where(eq(apiTokens.id, tokenId));
}
