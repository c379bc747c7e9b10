import { createHash, randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZodError } from "zod";
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from "../src/errors";
import {
  apiTokens,
  loginThrottle,
  testCases,
  testExecutionSteps,
  testExecutions,
  users,
} from "../src/schema";
import { recordSteps } from "../src/steps";
import {
  authenticateToken,
  createApiToken,
  LOGIN_MAX_FAILURES,
  LOGIN_WINDOW_MS,
  listApiTokens,
  login,
  revokeApiToken,
  SESSION_TTL_MS,
} from "../src/tokens";
import {
  countUsers,
  createUser,
  deleteUser,
  findUserByEmail,
  getUser,
  listUsers,
} from "../src/users";
import {
  createExecutionScenario,
  createTestUser,
  openTestDatabase,
  rejectionOf,
  TEST_PASSWORD,
  type TestDatabase,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(() => h.close());

const PUBLIC_USER_KEYS = ["createdAt", "email", "id", "name", "role", "updatedAt"];

function uniqueEmail(local = "user") {
  return `${local}-${randomBytes(5).toString("hex")}@Example.test`;
}

function sha256Hex(value: string) {
  return createHash("sha256").update(value).digest("hex");
}

describe("createUser", () => {
  it("returns the public user, never the password or its hash", async () => {
    const address = uniqueEmail("ada");
    const user = await createUser(h.db, { email: address, name: " Ada ", password: TEST_PASSWORD });
    expect(Object.keys(user).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(user).toMatchObject({ email: address.toLowerCase(), name: "Ada", role: "member" });
    expect(JSON.stringify(user)).not.toContain(TEST_PASSWORD);
  });

  it("stores an argon2id hash, not the password", async () => {
    const user = await createUser(h.db, {
      email: uniqueEmail(),
      name: "Hash",
      password: TEST_PASSWORD,
    });
    const [row] = await h.db.select().from(users).where(eq(users.id, user.id));
    expect(row?.passwordHash).toMatch(/^\$argon2id\$/);
    expect(row?.passwordHash).not.toContain(TEST_PASSWORD);
  });

  it("refuses an email that differs from an existing one only in case", async () => {
    const address = uniqueEmail("grace");
    await createUser(h.db, { email: address, name: "Grace", password: TEST_PASSWORD });
    const error = await rejectionOf(
      createUser(h.db, { email: address.toUpperCase(), name: "Other", password: TEST_PASSWORD }),
    );
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toContain(address.toLowerCase());
  });

  it("rejects a short password and an invalid email through zod", async () => {
    await expect(
      createUser(h.db, { email: uniqueEmail(), name: "Short", password: "1234567" }),
    ).rejects.toThrow(ZodError);
    await expect(
      createUser(h.db, { email: "not-an-email", name: "Bad", password: TEST_PASSWORD }),
    ).rejects.toThrow(ZodError);
  });
});

describe("findUserByEmail, getUser, listUsers, countUsers", () => {
  it("finds a user whatever the case and surrounding spaces of the email", async () => {
    const user = await createTestUser(h);
    const found = await findUserByEmail(h.db, `  ${user.email.toUpperCase()} `);
    expect(found?.id).toBe(user.id);
    expect(found?.email).toBe(user.email);
  });

  it("answers undefined for an unknown email", async () => {
    expect(await findUserByEmail(h.db, uniqueEmail("nobody"))).toBeUndefined();
  });

  it("gets a user by id without the hash, and NOT_FOUND for a missing id", async () => {
    const user = await createTestUser(h);
    const fetched = await getUser(h.db, user.id);
    expect(Object.keys(fetched).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(fetched.email).toBe(user.email);
    await expect(getUser(h.db, 2_000_000_000)).rejects.toStrictEqual(
      new NotFoundError("User", 2_000_000_000),
    );
  });

  it("lists every user in id order without password hashes", async () => {
    const first = await createTestUser(h);
    const second = await createTestUser(h, "admin");
    const all = await listUsers(h.db);
    const ids = all.map((u) => u.id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(ids).toEqual(expect.arrayContaining([first.id, second.id]));
    for (const u of all) expect(Object.keys(u).sort()).toEqual(PUBLIC_USER_KEYS);
    expect(await countUsers(h.db)).toBe(all.length);
  });
});

describe("deleteUser", () => {
  it("deletes a member and, by cascade, their tokens, test cases, executions and steps", async () => {
    const admin = await createTestUser(h, "admin");
    const { user, actor, testCase, executionId } = await createExecutionScenario(h);
    await recordSteps(h.db, actor, {
      executionId,
      steps: [
        { stepNumber: 1, stepDescription: "open", result: "pass" },
        { stepNumber: 2, stepDescription: "pay", result: "fail" },
      ],
    });
    await createApiToken(h.db, actor, { name: "ci" });
    await login(h.db, { email: user.email, password: TEST_PASSWORD });

    expect(await deleteUser(h.db, admin.actor, { id: user.id })).toEqual({ id: user.id });

    expect(await h.db.select().from(users).where(eq(users.id, user.id))).toEqual([]);
    expect(await h.db.select().from(apiTokens).where(eq(apiTokens.userId, user.id))).toEqual([]);
    expect(await h.db.select().from(testCases).where(eq(testCases.id, testCase.id))).toEqual([]);
    expect(
      await h.db.select().from(testExecutions).where(eq(testExecutions.id, executionId)),
    ).toEqual([]);
    expect(
      await h.db
        .select()
        .from(testExecutionSteps)
        .where(eq(testExecutionSteps.executionId, executionId)),
    ).toEqual([]);
  });

  it("leaves other users' rows in place", async () => {
    const admin = await createTestUser(h, "admin");
    const doomed = await createTestUser(h);
    const survivor = await createExecutionScenario(h);
    await deleteUser(h.db, admin.actor, { id: doomed.id });
    const [row] = await h.db
      .select()
      .from(testExecutions)
      .where(eq(testExecutions.id, survivor.executionId));
    expect(row?.userId).toBe(survivor.user.id);
  });

  it("forbids a member from deleting anyone", async () => {
    const member = await createTestUser(h);
    const other = await createTestUser(h);
    await expect(deleteUser(h.db, member.actor, { id: other.id })).rejects.toThrow(ForbiddenError);
    expect(await getUser(h.db, other.id)).toMatchObject({ id: other.id });
  });

  it("refuses to let an admin delete their own account", async () => {
    const admin = await createTestUser(h, "admin");
    await expect(deleteUser(h.db, admin.actor, { id: admin.id })).rejects.toThrow(ConflictError);
  });

  it("answers NOT_FOUND for a missing user", async () => {
    const admin = await createTestUser(h, "admin");
    await expect(deleteUser(h.db, admin.actor, { id: 2_000_000_000 })).rejects.toStrictEqual(
      new NotFoundError("User", 2_000_000_000),
    );
  });
});

describe("login", () => {
  it("issues a session token expiring SESSION_TTL_MS after now, with the public user", async () => {
    const user = await createTestUser(h);
    const now = new Date();
    const result = await login(
      h.db,
      { email: user.email.toUpperCase(), password: TEST_PASSWORD },
      now,
    );
    expect(result.token).toMatch(/^tt_[A-Za-z0-9_-]{43}$/);
    expect(result.expiresAt.getTime()).toBe(now.getTime() + SESSION_TTL_MS);
    expect(result.user).toEqual({
      id: user.id,
      email: user.email,
      name: user.name,
      role: "member",
    });
    const [row] = await h.db
      .select()
      .from(apiTokens)
      .where(eq(apiTokens.tokenHash, sha256Hex(result.token)));
    expect(row).toMatchObject({ userId: user.id, kind: "session", expiresAt: result.expiresAt });
  });

  it("refuses a wrong password and an unknown email with the same UnauthorizedError", async () => {
    const user = await createTestUser(h);
    const wrongPassword = await rejectionOf(
      login(h.db, { email: user.email, password: "not the password" }),
    );
    const unknownEmail = await rejectionOf(
      login(h.db, { email: uniqueEmail("ghost"), password: TEST_PASSWORD }),
    );
    expect(wrongPassword).toStrictEqual(new UnauthorizedError("email or password is incorrect"));
    expect(unknownEmail).toStrictEqual(wrongPassword);
  });

  it("locks the account after LOGIN_MAX_FAILURES failures, even for the right password", async () => {
    expect(LOGIN_MAX_FAILURES).toBe(5);
    const user = await createTestUser(h);
    for (let i = 0; i < 5; i++) {
      await expect(login(h.db, { email: user.email, password: "wrong password" })).rejects.toThrow(
        UnauthorizedError,
      );
    }
    const error = await rejectionOf(login(h.db, { email: user.email, password: TEST_PASSWORD }));
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterSeconds).toBeGreaterThan(0);
    expect((error as RateLimitedError).retryAfterSeconds).toBeLessThanOrEqual(
      LOGIN_WINDOW_MS / 1000,
    );
  });

  it("counts failures per email whatever its case", async () => {
    const user = await createTestUser(h);
    for (let i = 0; i < 5; i++) {
      const email = i % 2 === 0 ? user.email.toUpperCase() : user.email;
      await expect(login(h.db, { email, password: "wrong password" })).rejects.toThrow(
        UnauthorizedError,
      );
    }
    await expect(login(h.db, { email: user.email, password: TEST_PASSWORD })).rejects.toThrow(
      RateLimitedError,
    );
  });

  it("lets the right password in again once the lock has passed", async () => {
    const user = await createTestUser(h);
    const now = new Date();
    for (let i = 0; i < 5; i++) {
      await expect(
        login(h.db, { email: user.email, password: "wrong password" }, now),
      ).rejects.toThrow(UnauthorizedError);
    }
    const later = new Date(now.getTime() + LOGIN_WINDOW_MS + 1000);
    const result = await login(h.db, { email: user.email, password: TEST_PASSWORD }, later);
    expect(result.user.id).toBe(user.id);
  });

  it("does not count a successful login as a failure, and keeps the window's failures", async () => {
    const user = await createTestUser(h);
    const fail = () =>
      expect(login(h.db, { email: user.email, password: "wrong password" })).rejects.toThrow(
        UnauthorizedError,
      );
    for (let i = 0; i < 4; i++) await fail();
    await login(h.db, { email: user.email, password: TEST_PASSWORD });
    await login(h.db, { email: user.email, password: TEST_PASSWORD });
    const [row] = await h.db
      .select()
      .from(loginThrottle)
      .where(eq(loginThrottle.email, user.email));
    expect(row?.failures).toBe(4);
    await fail();
    await expect(login(h.db, { email: user.email, password: TEST_PASSWORD })).rejects.toThrow(
      RateLimitedError,
    );
  });

  it("checks at most LOGIN_MAX_FAILURES passwords of 50 parallel attempts, and refuses the rest", async () => {
    const user = await createTestUser(h);
    const attempts = Array.from({ length: 50 }, (_, i) =>
      login(h.db, {
        email: user.email,
        password: i === 49 ? TEST_PASSWORD : "wrong password",
      }).then(
        () => "ok",
        (error: unknown) => (error as Error).name,
      ),
    );
    const outcomes = await Promise.all(attempts);
    const checked = outcomes.filter((o) => o !== "RateLimitedError");
    expect(checked.length).toBeLessThanOrEqual(LOGIN_MAX_FAILURES);
    expect(outcomes.filter((o) => o === "RateLimitedError").length).toBeGreaterThanOrEqual(45);
    await expect(login(h.db, { email: user.email, password: TEST_PASSWORD })).rejects.toThrow(
      RateLimitedError,
    );
  });
});

describe("authenticateToken", () => {
  it("resolves a valid session token to its user and records its use", async () => {
    const user = await createTestUser(h);
    const { token } = await login(h.db, { email: user.email, password: TEST_PASSWORD });
    const now = new Date();
    const auth = await authenticateToken(h.db, token, now);
    expect(auth.user).toMatchObject({ id: user.id, email: user.email, role: "member" });
    expect(Object.keys(auth.user).sort()).toEqual(PUBLIC_USER_KEYS);
    const [row] = await h.db.select().from(apiTokens).where(eq(apiTokens.id, auth.tokenId));
    expect(row?.lastUsedAt?.getTime()).toBe(now.getTime());
  });

  it("refuses an expired session token", async () => {
    const user = await createTestUser(h);
    const issuedAt = new Date(Date.now() - SESSION_TTL_MS - 60_000);
    const { token } = await login(h.db, { email: user.email, password: TEST_PASSWORD }, issuedAt);
    await expect(authenticateToken(h.db, token)).rejects.toStrictEqual(
      new UnauthorizedError("the token is invalid, expired or revoked"),
    );
  });

  it("refuses an API token after its own expiry", async () => {
    const user = await createTestUser(h);
    const expiresAt = new Date(Date.now() + 60_000);
    const { token } = await createApiToken(h.db, user.actor, {
      name: "short-lived",
      expiresAt: expiresAt.toISOString(),
    });
    expect((await authenticateToken(h.db, token)).user.id).toBe(user.id);
    await expect(authenticateToken(h.db, token, new Date(expiresAt.getTime() + 1))).rejects.toThrow(
      UnauthorizedError,
    );
  });

  it("refuses a revoked token", async () => {
    const user = await createTestUser(h);
    const issued = await createApiToken(h.db, user.actor, { name: "ci" });
    await revokeApiToken(h.db, user.actor, { id: issued.id });
    await expect(authenticateToken(h.db, issued.token)).rejects.toThrow(UnauthorizedError);
  });

  it("refuses an unknown token", async () => {
    await expect(
      authenticateToken(h.db, `tt_${randomBytes(32).toString("base64url")}`),
    ).rejects.toThrow(UnauthorizedError);
  });
});

describe("API tokens", () => {
  it("shows the token once, with a display prefix and the chosen expiry", async () => {
    const user = await createTestUser(h);
    const expiresAt = new Date(Date.now() + 86_400_000);
    const issued = await createApiToken(h.db, user.actor, {
      name: " runner ",
      expiresAt: expiresAt.toISOString(),
    });
    expect(issued.token).toMatch(/^tt_/);
    expect(issued).toMatchObject({ name: "runner", prefix: issued.token.slice(0, 10), expiresAt });
    const forever = await createApiToken(h.db, user.actor, { name: "forever" });
    expect(forever.expiresAt).toBeNull();
  });

  it("rejects an expiry in the past", async () => {
    const user = await createTestUser(h);
    const stale = async () =>
      createApiToken(h.db, user.actor, {
        name: "stale",
        expiresAt: new Date(Date.now() - 1000).toISOString(),
      });
    await expect(stale()).rejects.toThrow(ZodError);
  });

  it("stores only the sha256 hex of the token, never the token itself", async () => {
    const user = await createTestUser(h);
    const issued = await createApiToken(h.db, user.actor, { name: "ci" });
    const session = await login(h.db, { email: user.email, password: TEST_PASSWORD });
    const rows = await h.db.select().from(apiTokens).where(eq(apiTokens.userId, user.id));
    expect(rows).toHaveLength(2);
    const byHash = new Map(rows.map((row) => [row.tokenHash, row]));
    expect(byHash.get(sha256Hex(issued.token))?.id).toBe(issued.id);
    expect(byHash.get(sha256Hex(session.token))?.kind).toBe("session");
    for (const row of rows) {
      expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
      const stored = JSON.stringify(row);
      expect(stored).not.toContain(issued.token);
      expect(stored).not.toContain(session.token);
    }
  });

  it("lists the user's own API tokens without the token or its hash, newest first", async () => {
    const user = await createTestUser(h);
    const other = await createTestUser(h);
    const first = await createApiToken(h.db, user.actor, { name: "first" });
    const second = await createApiToken(h.db, user.actor, { name: "second" });
    await createApiToken(h.db, other.actor, { name: "not mine" });
    await login(h.db, { email: user.email, password: TEST_PASSWORD });

    const listed = await listApiTokens(h.db, user.actor);
    expect(listed.map((t) => t.id)).toEqual([second.id, first.id]);
    for (const t of listed) {
      expect(Object.keys(t).sort()).toEqual([
        "createdAt",
        "expiresAt",
        "id",
        "lastUsedAt",
        "name",
        "prefix",
        "projectId",
        "revokedAt",
        "role",
      ]);
      expect(JSON.stringify(t)).not.toContain(first.token);
      expect(JSON.stringify(t)).not.toContain(second.token);
    }
  });

  it("revokes a token once; revoking again keeps the first revocation time", async () => {
    const user = await createTestUser(h);
    const issued = await createApiToken(h.db, user.actor, { name: "ci" });
    const revoked = await revokeApiToken(h.db, user.actor, { id: issued.id });
    expect(revoked.revokedAt).toBeInstanceOf(Date);
    const again = await revokeApiToken(h.db, user.actor, { id: issued.id });
    expect(again.revokedAt?.getTime()).toBe(revoked.revokedAt?.getTime());
    const [listed] = await listApiTokens(h.db, user.actor);
    expect(listed?.revokedAt?.getTime()).toBe(revoked.revokedAt?.getTime());
  });

  it("answers NOT_FOUND when a member or an admin revokes someone else's token", async () => {
    const owner = await createTestUser(h);
    const issued = await createApiToken(h.db, owner.actor, { name: "ci" });
    for (const intruder of [await createTestUser(h), await createTestUser(h, "admin")]) {
      await expect(revokeApiToken(h.db, intruder.actor, { id: issued.id })).rejects.toStrictEqual(
        new NotFoundError("API token", issued.id),
      );
    }
    expect((await authenticateToken(h.db, issued.token)).user.id).toBe(owner.id);
  });
});
