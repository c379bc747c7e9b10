import { randomBytes } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import { migrate } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrationsFolder } from "../src/db";
import { ConflictError, ForbiddenError, NotFoundError } from "../src/errors";
import {
  executionHistory,
  getExecution,
  listExecutions,
  startExecution,
  updateExecution,
} from "../src/executions";
import {
  addMember,
  createProject,
  deleteProject,
  getProject,
  listMembers,
  listProjects,
  removeMember,
  updateMember,
  updateProject,
} from "../src/projects";
import { executionStatistics } from "../src/stats";
import { recordSteps } from "../src/steps";
import { createTestCase, ensureTestCases, listTestCases } from "../src/testCases";
import { authenticateToken, createApiToken } from "../src/tokens";
import { createUser, deleteUser } from "../src/users";
import {
  createTestCaseFor,
  createTestUser,
  openTestDatabase,
  queryRows,
  rejectionOf,
  type TestDatabase,
  testDatabaseUrl,
} from "./fixtures";

let h: TestDatabase;
beforeAll(async () => {
  h = await openTestDatabase();
});
afterAll(async () => {
  await h.close();
});

const slug = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

async function team() {
  const maintainer = await createTestUser(h);
  const member = await createTestUser(h);
  const viewer = await createTestUser(h);
  const outsider = await createTestUser(h);
  const project = await createProject(h.db, maintainer.actor, { slug: slug("team"), name: "Team" });
  await addMember(h.db, maintainer.actor, { projectId: project.id, email: member.email });
  await addMember(h.db, maintainer.actor, {
    projectId: project.id,
    email: viewer.email.toUpperCase(),
    role: "viewer",
  });
  return { maintainer, member, viewer, outsider, project };
}

describe("personal projects", () => {
  it("are created with every user, who is their maintainer", async () => {
    const user = await createUser(h.db, {
      email: `p-${randomBytes(4).toString("hex")}@example.test`,
      name: "Pat",
      password: "long enough password",
    });
    const [row] = await queryRows<{ slug: string; name: string; role: string }>(
      h,
      sql`select p.slug, p.name, m.role from projects p
          join project_members m on m.project_id = p.id and m.user_id = ${user.id}
          where p.personal_user_id = ${user.id}`,
    );
    expect(row).toEqual({
      slug: `personal-${user.id}`,
      name: "Pat (personal)",
      role: "maintainer",
    });
  });

  it("hold what a member records without naming a project, and go with the user", async () => {
    const user = await createTestUser(h);
    const testCase = await createTestCaseFor(h, user.actor);
    const [personal] = await queryRows<{ id: number }>(
      h,
      sql`select id from projects where personal_user_id = ${user.id}`,
    );
    expect(testCase.projectId).toBe(personal?.id);
    const view = await getProject(h.db, user.actor, { id: personal?.id ?? 0 });
    expect(view).toMatchObject({ personal: true, role: "maintainer" });
    expect(await rejectionOf(deleteProject(h.db, user.actor, { id: view.id }))).toBeInstanceOf(
      ConflictError,
    );
    expect(
      await rejectionOf(
        updateMember(h.db, user.actor, { projectId: view.id, userId: user.id, role: "viewer" }),
      ),
    ).toBeInstanceOf(ConflictError);
    // What they recorded in a team's project stays there when they are deleted.
    const teamOwner = await createTestUser(h);
    const team = await createProject(h.db, teamOwner.actor, { slug: slug("kept"), name: "Kept" });
    await addMember(h.db, teamOwner.actor, { projectId: team.id, email: user.email });
    const shared = await createTestCase(h.db, user.actor, { projectId: team.id, title: "theirs" });
    const recorded = await startExecution(h.db, user.actor, { testCaseId: shared.id });
    const admin = await createTestUser(h, "admin");
    await deleteUser(h.db, admin.actor, { id: user.id });
    const left = await queryRows(h, sql`select 1 from projects where id = ${view.id}`);
    expect(left).toEqual([]);
    const kept = await getExecution(h.db, teamOwner.actor, { id: recorded.executionId });
    expect(kept.userId).toBeNull();
    expect(
      (await executionStatistics(h.db, teamOwner.actor, { projectId: team.id })).totalExecutions,
    ).toBe(1);
  });
});

describe("projects and roles", () => {
  it("let members read and record, viewers only read, and hide the project from others", async () => {
    const { maintainer, member, viewer, outsider, project } = await team();
    const testCase = await createTestCase(h.db, member.actor, {
      projectId: project.id,
      title: "Shared checkout",
    });
    const started = await startExecution(h.db, member.actor, { testCaseId: testCase.id });
    await recordSteps(h.db, member.actor, {
      executionId: started.executionId,
      steps: [{ stepNumber: 1, stepDescription: "open", result: "pass" }],
    });

    // Every member sees the shared execution, in the project's list and by id.
    for (const who of [maintainer, member, viewer]) {
      const page = await listExecutions(h.db, who.actor, { projectId: project.id });
      expect(page.items.map((e) => e.id)).toEqual([started.executionId]);
      expect(page.total).toBe(1);
      const detail = await getExecution(h.db, who.actor, { id: started.executionId });
      expect(detail.steps).toHaveLength(1);
    }
    // Not their project: NOT_FOUND with the message of a missing object.
    const hidden = await rejectionOf(
      getExecution(h.db, outsider.actor, { id: started.executionId }),
    );
    expect(hidden).toBeInstanceOf(NotFoundError);
    expect((hidden as Error).message).toBe(`Execution ${started.executionId} was not found`);
    expect(
      await rejectionOf(listExecutions(h.db, outsider.actor, { projectId: project.id })),
    ).toBeInstanceOf(NotFoundError);
    expect(
      await rejectionOf(executionStatistics(h.db, outsider.actor, { projectId: project.id })),
    ).toBeInstanceOf(NotFoundError);
    // Their own default (personal) project does not show it.
    expect((await listExecutions(h.db, outsider.actor, {})).total).toBe(0);

    // A viewer reads but cannot write: FORBIDDEN, and nothing changes.
    const writes = [
      () =>
        recordSteps(h.db, viewer.actor, {
          executionId: started.executionId,
          steps: [{ stepNumber: 2, stepDescription: "pay", result: "fail" }],
        }),
      () => updateExecution(h.db, viewer.actor, { id: started.executionId, status: "completed" }),
      () => startExecution(h.db, viewer.actor, { testCaseId: testCase.id }),
      () => createTestCase(h.db, viewer.actor, { projectId: project.id, title: "x" }),
      () =>
        ensureTestCases(h.db, viewer.actor, {
          projectId: project.id,
          testCases: [{ key: "k", title: "t" }],
        }),
    ];
    for (const write of writes) expect(await rejectionOf(write())).toBeInstanceOf(ForbiddenError);
    const after = await getExecution(h.db, maintainer.actor, { id: started.executionId });
    expect(after.status).toBe("running");
    expect(after.totalSteps).toBe(1);

    // Members cannot manage members or delete the project; maintainers can.
    expect(
      await rejectionOf(
        addMember(h.db, member.actor, { projectId: project.id, email: outsider.email }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(deleteProject(h.db, member.actor, { id: project.id }))).toBeInstanceOf(
      ForbiddenError,
    );
    const stats = await executionStatistics(h.db, viewer.actor, { projectId: project.id });
    expect(stats.totalExecutions).toBe(1);
    const history = await executionHistory(h.db, viewer.actor, { testCaseId: testCase.id });
    expect(history.total).toBe(1);
    // A test case named without a project names its own project (for those who may read it).
    expect((await listExecutions(h.db, viewer.actor, { testCaseId: testCase.id })).total).toBe(1);
    expect(
      (await executionStatistics(h.db, viewer.actor, { testCaseId: testCase.id })).totalExecutions,
    ).toBe(1);
    expect((await listExecutions(h.db, outsider.actor, { testCaseId: testCase.id })).total).toBe(0);
  });

  it("keep at least one maintainer, even when two demote each other at once", async () => {
    const { maintainer, member, project } = await team();
    await updateMember(h.db, maintainer.actor, {
      projectId: project.id,
      userId: member.id,
      role: "maintainer",
    });
    const results = await Promise.allSettled([
      updateMember(h.db, maintainer.actor, {
        projectId: project.id,
        userId: member.id,
        role: "member",
      }),
      updateMember(h.db, member.actor, {
        projectId: project.id,
        userId: maintainer.id,
        role: "member",
      }),
    ]);
    const [row] = await queryRows<{ n: number }>(
      h,
      sql`select count(*)::int as n from project_members where project_id = ${project.id} and role = 'maintainer'`,
    );
    expect(row?.n).toBe(1);
    const refused = results.filter((r) => r.status === "rejected");
    expect(refused).toHaveLength(1);
    const reason = (refused[0] as PromiseRejectedResult).reason;
    // The loser either met the last-maintainer rule or had lost its own maintainer role.
    expect(reason instanceof ConflictError || reason instanceof ForbiddenError).toBe(true);

    const [last] = (
      await listMembers(h.db, maintainer.actor, { projectId: project.id })
    ).items.filter((m) => m.role === "maintainer");
    expect(last).toBeDefined();
    const lastActor = last?.userId === maintainer.id ? maintainer.actor : member.actor;
    expect(
      await rejectionOf(
        removeMember(h.db, lastActor, { projectId: project.id, userId: last?.userId ?? 0 }),
      ),
    ).toBeInstanceOf(ConflictError);
  });

  it("lets members leave, refuses duplicates and reserved slugs", async () => {
    const { maintainer, member, project } = await team();
    expect(
      await rejectionOf(
        addMember(h.db, maintainer.actor, { projectId: project.id, email: member.email }),
      ),
    ).toBeInstanceOf(ConflictError);
    expect((await getProject(h.db, member.actor, { slug: project.slug.toUpperCase() })).id).toBe(
      project.id,
    );
    await removeMember(h.db, member.actor, { projectId: project.id, userId: member.id });
    expect(await rejectionOf(getProject(h.db, member.actor, { id: project.id }))).toBeInstanceOf(
      NotFoundError,
    );
    expect(
      await rejectionOf(getProject(h.db, member.actor, { slug: project.slug })),
    ).toBeInstanceOf(NotFoundError);
    expect(
      await rejectionOf(
        createProject(h.db, maintainer.actor, { slug: project.slug, name: "Again" }),
      ),
    ).toBeInstanceOf(ConflictError);
    // By user id only for admins: trying ids would read the user directory off project.members.
    const stranger = await createTestUser(h);
    expect(
      await rejectionOf(
        addMember(h.db, maintainer.actor, { projectId: project.id, userId: stranger.id }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    const admin = await createTestUser(h, "admin");
    expect(
      (await addMember(h.db, admin.actor, { projectId: project.id, userId: stranger.id })).email,
    ).toBe(stranger.email);
    expect(
      await rejectionOf(
        createProject(h.db, maintainer.actor, { slug: "personal-999999", name: "x" }),
      ),
    ).toMatchObject({ name: "ZodError" });
    const renamed = await updateProject(h.db, maintainer.actor, {
      id: project.id,
      name: "Renamed",
      defaultBranch: "trunk",
      retentionDays: 30,
    });
    expect(renamed).toMatchObject({ name: "Renamed", defaultBranch: "trunk", retentionDays: 30 });
  });

  it("lists a user's projects by cursor, and every project for an admin", async () => {
    const user = await createTestUser(h);
    const created = [];
    for (let i = 0; i < 5; i++) {
      created.push(await createProject(h.db, user.actor, { slug: slug("page"), name: `P${i}` }));
    }
    const seen: number[] = [];
    let cursor: number | undefined;
    for (;;) {
      const page = await listProjects(h.db, user.actor, { limit: 2, cursor });
      expect(page.total).toBe(6);
      seen.push(...page.items.map((p) => p.id));
      if (page.nextCursor === null) break;
      cursor = page.nextCursor;
    }
    expect(seen).toHaveLength(6);
    expect(seen).toEqual(expect.arrayContaining(created.map((p) => p.id)));
    const admin = await createTestUser(h, "admin");
    const all = await listProjects(h.db, admin.actor, { limit: 100 });
    expect(all.total).toBeGreaterThan(6);
    expect(all.items.every((p) => p.role === "maintainer")).toBe(true);
    // A project that does not exist is NOT_FOUND for an admin too (not a foreign-key CONFLICT).
    expect(
      await rejectionOf(
        createTestCase(h.db, admin.actor, { projectId: 2_000_000_000, title: "x" }),
      ),
    ).toBeInstanceOf(NotFoundError);
    expect(
      await rejectionOf(listExecutions(h.db, admin.actor, { projectId: 2_000_000_000 })),
    ).toBeInstanceOf(NotFoundError);
  });
});

describe("project tokens", () => {
  it("reach one project, with at most their role, and cannot mint tokens or projects", async () => {
    const { maintainer, project } = await team();
    const other = await createProject(h.db, maintainer.actor, {
      slug: slug("other"),
      name: "Other",
    });
    const otherCase = await createTestCase(h.db, maintainer.actor, {
      projectId: other.id,
      title: "elsewhere",
    });
    const issued = await createApiToken(h.db, maintainer.actor, {
      name: "ci",
      projectId: project.id,
      role: "member",
    });
    expect(issued).toMatchObject({ projectId: project.id, role: "member" });
    const { actor } = await authenticateToken(h.db, issued.token);
    expect(actor.scope).toEqual({ projectId: project.id, role: "member" });

    // Without projectId, everything goes to the token's project.
    const testCase = await createTestCase(h.db, actor, { title: "from CI" });
    expect(testCase.projectId).toBe(project.id);
    const started = await startExecution(h.db, actor, { testCaseId: testCase.id });
    expect((await listExecutions(h.db, actor, {})).items.map((e) => e.id)).toEqual([
      started.executionId,
    ]);
    // Another project, even one its user maintains, is NOT_FOUND; maintainer work is FORBIDDEN.
    expect(
      await rejectionOf(startExecution(h.db, actor, { testCaseId: otherCase.id })),
    ).toBeInstanceOf(NotFoundError);
    expect(await rejectionOf(listTestCases(h.db, actor, { projectId: other.id }))).toBeInstanceOf(
      NotFoundError,
    );
    expect((await listProjects(h.db, actor, {})).items.map((p) => p.id)).toEqual([project.id]);
    expect(
      await rejectionOf(addMember(h.db, actor, { projectId: project.id, email: maintainer.email })),
    ).toBeInstanceOf(ForbiddenError);
    expect(await rejectionOf(createApiToken(h.db, actor, { name: "wider" }))).toBeInstanceOf(
      ForbiddenError,
    );
    expect(
      await rejectionOf(createProject(h.db, actor, { slug: slug("escape"), name: "x" })),
    ).toBeInstanceOf(ForbiddenError);

    // A viewer token records nothing.
    const readOnly = await createApiToken(h.db, maintainer.actor, {
      name: "dashboard",
      projectId: project.id,
      role: "viewer",
    });
    const viewer = (await authenticateToken(h.db, readOnly.token)).actor;
    expect(
      await rejectionOf(
        recordSteps(h.db, viewer, {
          executionId: started.executionId,
          steps: [{ stepNumber: 1, stepDescription: "x", result: "pass" }],
        }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    expect((await getExecution(h.db, viewer, { id: started.executionId })).totalSteps).toBe(0);
  });

  it("cannot be given more than the issuer holds, nor for a project the issuer cannot see", async () => {
    const { member, outsider, project } = await team();
    expect(
      await rejectionOf(
        createApiToken(h.db, member.actor, {
          name: "x",
          projectId: project.id,
          role: "maintainer",
        }),
      ),
    ).toBeInstanceOf(ForbiddenError);
    expect(
      await rejectionOf(createApiToken(h.db, outsider.actor, { name: "x", projectId: project.id })),
    ).toBeInstanceOf(NotFoundError);
  });

  it("stop reaching the project when their user leaves it", async () => {
    const { maintainer, member, project } = await team();
    const issued = await createApiToken(h.db, member.actor, { name: "ci", projectId: project.id });
    const { actor } = await authenticateToken(h.db, issued.token);
    await createTestCase(h.db, actor, { title: "before" });
    await removeMember(h.db, maintainer.actor, { projectId: project.id, userId: member.id });
    expect(await rejectionOf(createTestCase(h.db, actor, { title: "after" }))).toBeInstanceOf(
      NotFoundError,
    );
  });
});

describe("migration 0015 on a wave-1 database", () => {
  it("moves every user's test cases and executions into their personal project, counts intact", async () => {
    const name = `testtrack_migrate_${randomBytes(5).toString("hex")}`;
    const admin = postgres(testDatabaseUrl("postgres"), { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const client = postgres(testDatabaseUrl(name), { max: 2, onnotice: () => {} });
    const folder = mkdtempSync(join(tmpdir(), "testtrack-wave1-"));
    try {
      // The migrations up to 0014 (wave 1), then wave-1 rows written as wave 1 wrote them.
      cpSync(migrationsFolder, folder, { recursive: true });
      const journalPath = join(folder, "meta", "_journal.json");
      const journal = JSON.parse(readFileSync(journalPath, "utf8")) as {
        entries: { idx: number }[];
      };
      journal.entries = journal.entries.filter((entry) => entry.idx <= 14);
      writeFileSync(journalPath, JSON.stringify(journal));
      const db = drizzle(client);
      await migrate(db, { migrationsFolder: folder });
      await client.unsafe(`
        insert into users (email, name, password_hash, role) values
          ('a@example.test', 'Ann', 'x', 'member'), ('b@example.test', 'Bo', 'x', 'member'),
          ('root@example.test', 'Root', 'x', 'admin');
        insert into test_cases (user_id, title, key)
          select u.id, u.name || ' case ' || g, 'k' || g from users u, generate_series(1, 3) g;
        insert into test_executions (test_case_id, user_id, status, result, browser, duration_seconds, created_at)
          select t.id, t.user_id, 'completed', case when g % 3 = 0 then 'fail' else 'pass' end::execution_result,
            'chromium', g, now() - g * interval '5 hours'
          from test_cases t, generate_series(1, 20) g where t.user_id in (select id from users where role = 'member');
      `);
      const before = await client.unsafe<{ user_id: number; n: number; fails: number }[]>(
        `select user_id, count(*)::int as n, count(*) filter (where result = 'fail')::int as fails
         from test_executions group by 1 order by 1`,
      );
      expect(before.map((r) => r.n)).toEqual([60, 60]);

      await migrate(db, { migrationsFolder });

      const moved = await client.unsafe<{ user_id: number; n: number; fails: number }[]>(
        `select e.user_id, count(*)::int as n, count(*) filter (where e.result = 'fail')::int as fails
         from test_executions e join projects p on p.id = e.project_id and p.personal_user_id = e.user_id
         group by 1 order by 1`,
      );
      expect(moved).toEqual(before);
      const cases = await client.unsafe<{ misplaced: number }[]>(
        `select count(*)::int as misplaced from test_cases t
         left join projects p on p.id = t.project_id and p.personal_user_id = t.user_id where p.id is null`,
      );
      expect(cases[0]?.misplaced).toBe(0);
      const roles = await client.unsafe<{ n: number }[]>(
        `select count(*)::int as n from project_members m join projects p
         on p.id = m.project_id and p.personal_user_id = m.user_id and m.role = 'maintainer'`,
      );
      expect(roles[0]?.n).toBe(3);
      // Roll-ups rebuilt per project equal the executions.
      const rollup = await client.unsafe<{ project_id: number; executions: number }[]>(
        `select project_id, executions from execution_totals where dimension = 'total' order by 1`,
      );
      const raw = await client.unsafe<{ project_id: number; executions: number }[]>(
        `select project_id, count(*)::int as executions from test_executions group by 1 order by 1`,
      );
      expect(rollup).toEqual(raw);

      // Each member sees exactly their own through the domain functions; the admin sees all.
      const { openDatabase } = await import("../src/db");
      const handle = openDatabase({ url: testDatabaseUrl(name) });
      try {
        const users = await client.unsafe<{ id: number; role: "admin" | "member" }[]>(
          `select id, role from users order by id`,
        );
        for (const user of users) {
          const page = await listExecutions(
            handle.db,
            { id: user.id, role: user.role },
            { limit: 1 },
          );
          const stats = await executionStatistics(handle.db, { id: user.id, role: user.role }, {});
          const expected = user.role === "admin" ? 120 : 60;
          expect(page.total).toBe(expected);
          expect(stats.totalExecutions).toBe(expected);
          if (user.role === "member") expect(stats.byResult.fail).toBe(before[0]?.fails);
        }
        // A new wave-2 user still gets a personal project.
        const fresh = await createUser(handle.db, {
          email: "c@example.test",
          name: "Cy",
          password: "long enough password",
        });
        expect((await listProjects(handle.db, { id: fresh.id, role: "member" }, {})).total).toBe(1);
      } finally {
        await handle.close();
      }
    } finally {
      rmSync(folder, { recursive: true, force: true });
      await client.end();
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    }
  }, 60_000);
});
