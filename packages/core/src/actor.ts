import { type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";
import { type Database, queryRows } from "./db";
import { ForbiddenError, NotFoundError } from "./errors";
import { PROJECT_ROLES, type ProjectRole, type UserRole } from "./schema";

/** A project token's reach: one project, with at most `role` there. */
export interface ProjectScope {
  projectId: number;
  role: ProjectRole;
}

/**
 * Who is asking. Admins hold every project as maintainers; others hold the projects they are
 * members of, with their member role. A project token (`scope`) narrows either to one project
 * and at most its role.
 */
export interface Actor {
  id: number;
  role: UserRole;
  scope?: ProjectScope | null;
  /** The user's personal project, when the caller already knows it (the session does). */
  personalProjectId?: number | null;
}

/** What each action needs; viewer < member < maintainer. */
export const NEEDS = {
  read: "viewer",
  write: "member",
  manage: "maintainer",
} as const satisfies Record<string, ProjectRole>;

const WHAT_NEEDS: Record<ProjectRole, string> = {
  viewer: "reading",
  member: "recording results and editing test cases",
  maintainer: "managing members and deleting",
};

export function atLeast(role: ProjectRole, need: ProjectRole): boolean {
  return PROJECT_ROLES.indexOf(role) >= PROJECT_ROLES.indexOf(need);
}

/**
 * The actor's role in the project whose id `projectId` holds (a column or a value), or NULL when
 * the project is not theirs to see: the one access rule, testtrack_project_role (migration
 * 0015), which step.record's SQL function calls too.
 */
export function projectRoleSql(
  actor: Actor,
  projectId: PgColumn | SQL | number,
): SQL<ProjectRole | null> {
  const project = typeof projectId === "number" ? sql`${projectId}::int` : projectId;
  return sql<ProjectRole | null>`testtrack_project_role(${project}, ${actor.id}::int, ${actor.role === "admin"}::boolean, ${actor.scope?.projectId ?? null}::int, ${actor.scope?.role ?? null}::project_role)`;
}

/** Rows of projects the actor may see (every project for an unscoped admin: no condition). */
export function readableBy(actor: Actor, projectId: PgColumn): SQL | undefined {
  if (actor.role === "admin" && !actor.scope) return undefined;
  return sql`${projectRoleSql(actor, projectId)} is not null`;
}

/**
 * Checks a role read with `projectRoleSql`: NOT_FOUND (as for a missing object, so ids leak
 * nothing) when there is none, FORBIDDEN when it is below `need`.
 */
export function assertRole(
  role: ProjectRole | null | undefined,
  need: ProjectRole,
  entity: string,
  id: number | string,
): ProjectRole {
  if (!role) throw new NotFoundError(entity, id);
  if (!atLeast(role, need)) {
    throw new ForbiddenError(
      `your role in this project is ${role}; ${WHAT_NEEDS[need]} needs ${need === "maintainer" ? "maintainer" : `${need} or above`}`,
    );
  }
  return role;
}

/** The actor's role in one project (NOT_FOUND / FORBIDDEN as `assertRole`). */
export async function requireProjectRole(
  db: Database,
  actor: Actor,
  projectId: number,
  need: ProjectRole,
): Promise<ProjectRole> {
  const [row] = await queryRows<{ role: ProjectRole | null }>(
    db,
    sql`select ${projectRoleSql(actor, projectId)} as role`,
  );
  return assertRole(row?.role, need, "Project", projectId);
}

/** The project an input without `projectId` means: the token's project, else the personal one. */
export async function defaultProjectId(db: Database, actor: Actor): Promise<number> {
  if (actor.scope) return actor.scope.projectId;
  if (actor.personalProjectId) return actor.personalProjectId;
  const [row] = await queryRows<{ id: number }>(
    db,
    sql`select id from projects where personal_user_id = ${actor.id}`,
  );
  if (!row) throw new NotFoundError("Personal project of user", actor.id);
  return row.id;
}

/**
 * The project a write goes to (`projectId`, else the default one), checked for `need`.
 * Admins and maintainers pass every check; others need the role.
 */
export async function targetProject(
  db: Database,
  actor: Actor,
  projectId: number | undefined,
  need: ProjectRole,
): Promise<number> {
  const project = projectId ?? (await defaultProjectId(db, actor));
  // A user is always maintainer of their personal project (its owner cannot be demoted).
  if (!actor.scope && project === actor.personalProjectId) return project;
  await requireProjectRole(db, actor, project, need);
  return project;
}

/**
 * The project a list or statistics call reads: `projectId` (checked), else the default one; or
 * null, every project, for an unscoped admin who names none (wave 1's admin-wide view).
 */
export async function readScope(
  db: Database,
  actor: Actor,
  projectId: number | undefined,
): Promise<number | null> {
  if (projectId === undefined && actor.role === "admin" && !actor.scope) return null;
  return targetProject(db, actor, projectId, NEEDS.read);
}

/**
 * `readScope`, where a test case named without a project names its own: the test case's project
 * when the actor may read it. A test case they may not read (or none) changes nothing: the
 * answer is then the default project's, which holds none of its executions, exactly as for a
 * missing test case (wave 1's rule: such a filter counts nothing).
 */
export async function readScopeOf(
  db: Database,
  actor: Actor,
  input: { projectId?: number; testCaseId?: number },
): Promise<number | null> {
  if (input.projectId !== undefined || input.testCaseId === undefined) {
    return readScope(db, actor, input.projectId);
  }
  const [row] = await queryRows<{ project_id: number; role: ProjectRole | null }>(
    db,
    sql`select t.project_id, ${projectRoleSql(actor, sql`t.project_id`)} as role
        from test_cases t where t.id = ${input.testCaseId}`,
  );
  if (!row?.role) return readScope(db, actor, undefined);
  return row.project_id;
}
