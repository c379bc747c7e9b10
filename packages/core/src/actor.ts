import type { SQL } from "drizzle-orm";
import { eq } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { UserRole } from "./schema";

/** Who is asking. Members see their own rows; admins see every row. */
export interface Actor {
  id: number;
  role: UserRole;
}

/** The owner whose rows `actor` may see, or null when the actor may see every row. */
export function visibleOwner(actor: Actor): number | null {
  return actor.role === "admin" ? null : actor.id;
}

/** The owner condition for `actor`, or undefined when the actor may see every row. */
export function ownedBy(actor: Actor, userIdColumn: PgColumn): SQL | undefined {
  const owner = visibleOwner(actor);
  return owner === null ? undefined : eq(userIdColumn, owner);
}
