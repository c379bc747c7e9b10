import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import { z } from "zod";
import { type Actor, assertRole, NEEDS, projectRoleSql } from "./actor";
import { type Database, queryRows } from "./db";
import { ConflictError, ForbiddenError, hasErrorCode, NotFoundError } from "./errors";
import { DEFAULT_PAGE_SIZE, id, LIMITS, pageDirection, pagination, text } from "./limits";
import {
  PROJECT_ROLES,
  type Project,
  type ProjectRole,
  projectMembers,
  projects,
  users,
} from "./schema";
import { email } from "./users";

/** Slugs of personal projects ("personal-<user id>"): no other project may take one. */
const PERSONAL_PREFIX = "personal-";

const slug = text()
  .trim()
  .toLowerCase()
  .min(1, "must not be empty")
  .max(64)
  .regex(
    /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/,
    "may hold only letters, digits and inner hyphens (e.g. web-shop)",
  )
  .refine((value) => !value.startsWith(PERSONAL_PREFIX), {
    message: `must not start with "${PERSONAL_PREFIX}" (kept for personal projects)`,
  });

const projectFields = {
  name: text().trim().min(1, "must not be empty").max(LIMITS.name),
  defaultBranch: text().trim().min(1).max(LIMITS.name),
  /** Days to keep executions (1 to 3,650); null keeps them until the instance-wide horizon. */
  retentionDays: z.number().int().min(1).max(3650).nullable(),
  /**
   * Days to keep artifacts of passed and of failed executions (1 to 3,650 each); null keeps them
   * as long as their execution. Failures usually deserve the longer time.
   */
  artifactRetentionDays: z.strictObject({
    passed: z.number().int().min(1).max(3650).nullable().optional(),
    failed: z.number().int().min(1).max(3650).nullable().optional(),
  }),
};

/** The project columns an artifactRetentionDays input sets (a key left out changes nothing). */
function artifactRetentionColumns(
  input: z.output<typeof projectFields.artifactRetentionDays> | undefined,
) {
  return {
    artifactRetentionPassedDays: input?.passed,
    artifactRetentionFailedDays: input?.failed,
  };
}

export const createProjectInput = z.strictObject({
  slug,
  name: projectFields.name,
  defaultBranch: projectFields.defaultBranch.default("main"),
  retentionDays: projectFields.retentionDays.optional(),
  artifactRetentionDays: projectFields.artifactRetentionDays.optional(),
});

export const updateProjectInput = z.strictObject({
  id,
  slug: slug.optional(),
  name: projectFields.name.optional(),
  defaultBranch: projectFields.defaultBranch.optional(),
  retentionDays: projectFields.retentionDays.optional(),
  artifactRetentionDays: projectFields.artifactRetentionDays.optional(),
});

export const projectIdInput = z.strictObject({ id });

/** A project by id, or by slug (what the CLI and people type). */
export const getProjectInput = z
  .strictObject({ id: id.optional(), slug: text().trim().toLowerCase().min(1).max(64).optional() })
  .refine((input) => (input.id === undefined) !== (input.slug === undefined), {
    message: "name the project by id or by slug (exactly one)",
    path: ["id"],
  });

const pageSize = pagination.limit;

export const listProjectsInput = z
  .strictObject({
    /** `nextCursor` of the previous page. */
    cursor: id.optional(),
    direction: pageDirection,
    limit: pageSize,
  })
  .default({ limit: DEFAULT_PAGE_SIZE });

export const listMembersInput = z.strictObject({
  projectId: id,
  cursor: id.optional(),
  direction: pageDirection,
  limit: pageSize,
});

export const addMemberInput = z
  .strictObject({
    projectId: id,
    /** The user to add, by id or by email (one of them). */
    userId: id.optional(),
    email: email.optional(),
    role: z.enum(PROJECT_ROLES).default("member"),
  })
  .refine((input) => (input.userId === undefined) !== (input.email === undefined), {
    message: "name the user by userId or by email (exactly one)",
    path: ["userId"],
  });

export const updateMemberInput = z.strictObject({
  projectId: id,
  userId: id,
  role: z.enum(PROJECT_ROLES),
});

export const removeMemberInput = z.strictObject({ projectId: id, userId: id });

export interface ProjectView {
  id: number;
  slug: string;
  name: string;
  defaultBranch: string;
  retentionDays: number | null;
  /** Days to keep artifacts of passed and of failed executions; null: as long as the execution. */
  artifactRetentionDays: { passed: number | null; failed: number | null };
  /** True for a user's personal project (deleted with the user, never by hand). */
  personal: boolean;
  /** The caller's role here (admins: maintainer). */
  role: ProjectRole;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProjectMember {
  userId: number;
  email: string;
  name: string;
  role: ProjectRole;
  createdAt: Date;
}

export interface CursorPage<T> {
  items: T[];
  total: number;
  limit: number;
  /** Pass as `cursor` for the next page; null on the last one. */
  nextCursor: number | null;
}

function view(project: Project, role: ProjectRole): ProjectView {
  const { personalUserId, artifactRetentionPassedDays, artifactRetentionFailedDays, ...rest } =
    project;
  return {
    ...rest,
    artifactRetentionDays: {
      passed: artifactRetentionPassedDays,
      failed: artifactRetentionFailedDays,
    },
    personal: personalUserId !== null,
    role,
  };
}

const slugTaken = (value: string) =>
  new ConflictError(`a project with slug "${value}" already exists; choose another slug`);

/** A new project; its creator becomes its first maintainer. */
export async function createProject(
  db: Database,
  actor: Actor,
  raw: z.input<typeof createProjectInput>,
): Promise<ProjectView> {
  const input = createProjectInput.parse(raw);
  if (actor.scope) {
    throw new ForbiddenError("a project token cannot create projects; sign in as the user");
  }
  try {
    return await db.transaction(async (tx) => {
      const [project] = await tx
        .insert(projects)
        .values({
          slug: input.slug,
          name: input.name,
          defaultBranch: input.defaultBranch,
          retentionDays: input.retentionDays ?? null,
          ...artifactRetentionColumns(input.artifactRetentionDays),
        })
        .returning();
      if (!project) throw new Error("project insert returned no row");
      await tx
        .insert(projectMembers)
        .values({ projectId: project.id, userId: actor.id, role: "maintainer" });
      return view(project, "maintainer");
    });
  } catch (error) {
    throw hasErrorCode(error, "23505") ? slugTaken(input.slug) : error;
  }
}

/**
 * The projects the actor may see, newest first, paged by cursor: their memberships (an admin: every
 * project; a project token: its project).
 */
export async function listProjects(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listProjectsInput>,
): Promise<CursorPage<ProjectView>> {
  const input = listProjectsInput.parse(raw);
  const everyProject = actor.role === "admin" && !actor.scope;
  // Members' projects through their memberships (an index range), not a scan of all projects.
  // A project token: its project (an admin's, whether or not the admin is a member).
  const visible = everyProject
    ? undefined
    : actor.scope && actor.role === "admin"
      ? eq(projects.id, actor.scope.projectId)
      : and(
          sql`${projects.id} in (select m.project_id from project_members m where m.user_id = ${actor.id})`,
          actor.scope ? eq(projects.id, actor.scope.projectId) : undefined,
        );
  const role = projectRoleSql(actor, projects.id);
  const [rows, [count]] = await Promise.all([
    db
      .select({ project: projects, role })
      .from(projects)
      .where(and(visible, input.cursor ? lt(projects.id, input.cursor) : undefined))
      .orderBy(desc(projects.id))
      .limit(input.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(projects).where(visible),
  ]);
  const items = rows.flatMap((row) => (row.role ? [view(row.project, row.role)] : []));
  const last = rows[rows.length - 1];
  return {
    items,
    total: count?.n ?? 0,
    limit: input.limit,
    nextCursor: rows.length === input.limit && last ? last.project.id : null,
  };
}

async function projectWithRole(
  db: Database,
  actor: Actor,
  projectId: number | string,
  need: ProjectRole,
) {
  const [row] = await db
    .select({ project: projects, role: projectRoleSql(actor, projects.id) })
    .from(projects)
    .where(
      typeof projectId === "number" ? eq(projects.id, projectId) : eq(projects.slug, projectId),
    );
  const role = assertRole(row?.role, need, "Project", projectId);
  if (!row) throw new NotFoundError("Project", projectId);
  return { project: row.project, role };
}

export async function getProject(
  db: Database,
  actor: Actor,
  raw: z.input<typeof getProjectInput>,
): Promise<ProjectView> {
  const input = getProjectInput.parse(raw);
  const { project, role } = await projectWithRole(
    db,
    actor,
    input.id ?? input.slug ?? 0,
    NEEDS.read,
  );
  return view(project, role);
}

/** Renames a project or changes its settings (maintainers). */
export async function updateProject(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateProjectInput>,
): Promise<ProjectView> {
  const { id: projectId, artifactRetentionDays, ...changes } = updateProjectInput.parse(raw);
  const { project, role } = await projectWithRole(db, actor, projectId, NEEDS.manage);
  if (changes.slug !== undefined && project.personalUserId !== null) {
    throw new ConflictError("a personal project keeps its slug; change its name instead");
  }
  try {
    const [row] = await db
      .update(projects)
      .set({
        ...changes,
        ...artifactRetentionColumns(artifactRetentionDays),
        updatedAt: new Date(),
      })
      .where(eq(projects.id, projectId))
      .returning();
    if (!row) throw new NotFoundError("Project", projectId);
    return view(row, role);
  } catch (error) {
    throw hasErrorCode(error, "23505") && changes.slug ? slugTaken(changes.slug) : error;
  }
}

/**
 * Deletes a project and, by cascade, its test cases, executions, steps and memberships
 * (maintainers). A personal project goes only with its user.
 */
export async function deleteProject(
  db: Database,
  actor: Actor,
  raw: z.input<typeof projectIdInput>,
): Promise<{ id: number }> {
  const input = projectIdInput.parse(raw);
  const { project } = await projectWithRole(db, actor, input.id, NEEDS.manage);
  if (project.personalUserId !== null) {
    throw new ConflictError("a personal project cannot be deleted; it is deleted with its user");
  }
  await db.delete(projects).where(eq(projects.id, input.id));
  return { id: input.id };
}

/** A project's members by user id, paged by cursor (anyone who may see the project). */
export async function listMembers(
  db: Database,
  actor: Actor,
  raw: z.input<typeof listMembersInput>,
): Promise<CursorPage<ProjectMember>> {
  const input = listMembersInput.parse(raw);
  await projectWithRole(db, actor, input.projectId, NEEDS.read);
  const m = projectMembers;
  const [items, [count]] = await Promise.all([
    db
      .select({
        userId: m.userId,
        email: users.email,
        name: users.name,
        role: m.role,
        createdAt: m.createdAt,
      })
      .from(m)
      .innerJoin(users, eq(users.id, m.userId))
      .where(
        and(
          eq(m.projectId, input.projectId),
          input.cursor ? gt(m.userId, input.cursor) : undefined,
        ),
      )
      .orderBy(asc(m.userId))
      .limit(input.limit),
    db.select({ n: sql<number>`count(*)::int` }).from(m).where(eq(m.projectId, input.projectId)),
  ]);
  const last = items[items.length - 1];
  return {
    items,
    total: count?.n ?? 0,
    limit: input.limit,
    nextCursor: items.length === input.limit && last ? last.userId : null,
  };
}

/**
 * Runs a membership change with the project's row locked, so two maintainers demoting each other
 * at once cannot leave it without one. `leaving`: a member removing themself needs no
 * maintainer rights.
 */
async function changeMembers<T>(
  db: Database,
  actor: Actor,
  projectId: number,
  change: (tx: Database, project: Project) => Promise<T>,
  leaving = false,
): Promise<T> {
  return db.transaction(async (tx) => {
    // The lock first, the role after it in a statement of its own: a role read in the locking
    // statement would be the one from before a concurrent change the lock waited for. NO KEY
    // UPDATE: inserts into the project's tables hold KEY SHARE on it and need not wait.
    const [locked] = await tx
      .select({ id: projects.id })
      .from(projects)
      .where(eq(projects.id, projectId))
      .for("no key update");
    const [row] = locked
      ? await tx
          .select({ project: projects, role: projectRoleSql(actor, projects.id) })
          .from(projects)
          .where(eq(projects.id, projectId))
      : [];
    assertRole(row?.role, leaving ? NEEDS.read : NEEDS.manage, "Project", projectId);
    if (!row) throw new NotFoundError("Project", projectId);
    return change(tx, row.project);
  });
}

async function assertKeepsMaintainer(tx: Database, projectId: number, userId: number) {
  const [row] = await queryRows<{ others: number }>(
    tx,
    sql`select count(*)::int as others from project_members
        where project_id = ${projectId} and role = 'maintainer' and user_id <> ${userId}`,
  );
  if (!row || row.others === 0) {
    throw new ConflictError(
      "a project needs at least one maintainer: make someone else maintainer first",
    );
  }
}

function assertNotPersonalOwner(project: Project, userId: number) {
  if (project.personalUserId === userId) {
    throw new ConflictError("the owner of a personal project always stays its maintainer");
  }
}

const memberColumns = {
  userId: projectMembers.userId,
  role: projectMembers.role,
  createdAt: projectMembers.createdAt,
};

export async function addMember(
  db: Database,
  actor: Actor,
  raw: z.input<typeof addMemberInput>,
): Promise<ProjectMember> {
  const input = addMemberInput.parse(raw);
  // By id only for admins (who may list users anyway): trying ids one by one would otherwise
  // let any project's maintainer read every user's email and name off project.members.
  if (input.userId !== undefined && (actor.role !== "admin" || actor.scope)) {
    throw new ForbiddenError("add a member by email; only an admin may add one by user id");
  }
  return changeMembers(db, actor, input.projectId, async (tx) => {
    const [user] = await tx
      .select({ id: users.id, email: users.email, name: users.name })
      .from(users)
      .where(
        input.userId !== undefined
          ? eq(users.id, input.userId)
          : eq(sql`lower(${users.email})`, input.email ?? ""),
      );
    if (!user) throw new NotFoundError("User", input.userId ?? input.email ?? "");
    const [added] = await tx
      .insert(projectMembers)
      .values({ projectId: input.projectId, userId: user.id, role: input.role })
      .onConflictDoNothing()
      .returning(memberColumns);
    if (!added) {
      throw new ConflictError(
        `${user.email} is already a member of this project; change their role with updateMember`,
      );
    }
    return { ...added, email: user.email, name: user.name };
  });
}

export async function updateMember(
  db: Database,
  actor: Actor,
  raw: z.input<typeof updateMemberInput>,
): Promise<ProjectMember> {
  const input = updateMemberInput.parse(raw);
  return changeMembers(db, actor, input.projectId, async (tx, project) => {
    if (input.role !== "maintainer") {
      assertNotPersonalOwner(project, input.userId);
      await assertKeepsMaintainer(tx, input.projectId, input.userId);
    }
    const [row] = await tx
      .update(projectMembers)
      .set({ role: input.role })
      .where(
        and(eq(projectMembers.projectId, input.projectId), eq(projectMembers.userId, input.userId)),
      )
      .returning(memberColumns);
    if (!row) throw new NotFoundError("Member", input.userId);
    return withUser(tx, row);
  });
}

/** Removes a member (maintainers), or the caller leaving the project. */
export async function removeMember(
  db: Database,
  actor: Actor,
  raw: z.input<typeof removeMemberInput>,
): Promise<{ projectId: number; userId: number }> {
  const input = removeMemberInput.parse(raw);
  const leaving = input.userId === actor.id;
  return changeMembers(
    db,
    actor,
    input.projectId,
    async (tx, project) => {
      assertNotPersonalOwner(project, input.userId);
      await assertKeepsMaintainer(tx, input.projectId, input.userId);
      const [row] = await tx
        .delete(projectMembers)
        .where(
          and(
            eq(projectMembers.projectId, input.projectId),
            eq(projectMembers.userId, input.userId),
          ),
        )
        .returning({ userId: projectMembers.userId });
      if (!row) throw new NotFoundError("Member", input.userId);
      return { projectId: input.projectId, userId: row.userId };
    },
    leaving,
  );
}

async function withUser(
  db: Database,
  member: { userId: number; role: ProjectRole; createdAt: Date },
): Promise<ProjectMember> {
  const [user] = await db
    .select({ email: users.email, name: users.name })
    .from(users)
    .where(eq(users.id, member.userId));
  if (!user) throw new NotFoundError("User", member.userId);
  return { ...member, ...user };
}
