import { asc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import type { Actor } from "./actor";
import type { Database } from "./db";
import { ConflictError, ForbiddenError, NotFoundError } from "./errors";
import { id, LIMITS } from "./limits";
import { hashPassword } from "./passwords";
import { USER_ROLES, users } from "./schema";

export const email = z.string().trim().toLowerCase().pipe(z.email().max(254));
export const password = z
  .string()
  .min(8, "must be at least 8 characters")
  .max(256, "must be at most 256 characters");

export const createUserInput = z.strictObject({
  email,
  name: z.string().trim().min(1).max(LIMITS.name),
  password,
  role: z.enum(USER_ROLES).default("member"),
});
export type CreateUserInput = z.input<typeof createUserInput>;

export const deleteUserInput = z.strictObject({ id });

/** A user as it may leave the server: never the password hash. */
export const publicUserColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  createdAt: users.createdAt,
  updatedAt: users.updatedAt,
};
export type PublicUser = {
  id: number;
  email: string;
  name: string;
  role: (typeof USER_ROLES)[number];
  createdAt: Date;
  updatedAt: Date;
};

export async function createUser(db: Database, raw: CreateUserInput): Promise<PublicUser> {
  const input = createUserInput.parse(raw);
  const passwordHash = await hashPassword(input.password);
  const [user] = await db
    .insert(users)
    .values({ email: input.email, name: input.name, role: input.role, passwordHash })
    .onConflictDoNothing()
    .returning(publicUserColumns);
  if (!user) throw new ConflictError(`a user with email ${input.email} already exists`);
  return user;
}

export async function findUserByEmail(db: Database, address: string) {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.email})`, address.trim().toLowerCase()))
    .limit(1);
  return user;
}

export async function getUser(db: Database, userId: number): Promise<PublicUser> {
  const [user] = await db.select(publicUserColumns).from(users).where(eq(users.id, userId));
  if (!user) throw new NotFoundError("User", userId);
  return user;
}

export function listUsers(db: Database): Promise<PublicUser[]> {
  return db.select(publicUserColumns).from(users).orderBy(asc(users.id));
}

export async function countUsers(db: Database): Promise<number> {
  const [row] = await db.select({ n: sql<number>`count(*)::int` }).from(users);
  return row?.n ?? 0;
}

/** Deletes a user and, by cascade, their tokens, test cases, executions and steps. */
export async function deleteUser(db: Database, actor: Actor, raw: z.input<typeof deleteUserInput>) {
  const input = deleteUserInput.parse(raw);
  if (actor.role !== "admin") throw new ForbiddenError("only an admin can delete users");
  if (input.id === actor.id) throw new ConflictError("you cannot delete your own account");
  const [deleted] = await db
    .delete(users)
    .where(eq(users.id, input.id))
    .returning({ id: users.id });
  if (!deleted) throw new NotFoundError("User", input.id);
  return deleted;
}
