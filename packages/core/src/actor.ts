import type { SQL } from "drizzle-orm";
import { eq } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import type { UserRole } from "./schema";

/** Who is asking. Members see their own rows; admins see every row. */
export interface Actor {
  id: number;
  role: UserRole;
}

/** The owner condition for `actor`, or undefined when the actor may see every row. */
export function ownedBy(actor: Actor, userIdColumn: PgColumn): SQL | undefined {
  return actor.role === "admin" ? undefined : eq(userIdColumn, actor.id);
}
