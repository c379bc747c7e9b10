import {
  addMember,
  addMemberInput,
  createProject,
  createProjectInput,
  deleteProject,
  getProject,
  getProjectInput,
  listMembers,
  listMembersInput,
  listProjects,
  listProjectsInput,
  projectIdInput,
  removeMember,
  removeMemberInput,
  updateMember,
  updateMemberInput,
  updateProject,
  updateProjectInput,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const projectRouter = router({
  create: authedProcedure
    .meta(rest("POST", "/projects", "Create a project"))
    .input(createProjectInput)
    .mutation(({ ctx, input }) => createProject(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .meta(rest("GET", "/projects", "Projects you can see"))
    .input(listProjectsInput)
    .query(({ ctx, input }) => listProjects(ctx.db, ctx.actor, input)),
  /** By id or by slug. */
  get: authedProcedure
    .meta(rest("GET", "/projects/{id}", "A project"))
    .input(getProjectInput)
    .query(({ ctx, input }) => getProject(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .meta(rest("PATCH", "/projects/{id}", "Change a project's settings"))
    .input(updateProjectInput)
    .mutation(({ ctx, input }) => updateProject(ctx.db, ctx.actor, input)),
  delete: authedProcedure
    .meta(rest("DELETE", "/projects/{id}", "Delete a project"))
    .input(projectIdInput)
    .mutation(({ ctx, input }) => deleteProject(ctx.db, ctx.actor, input)),
  members: authedProcedure
    .meta(rest("GET", "/projects/{projectId}/members", "A project's members"))
    .input(listMembersInput)
    .query(({ ctx, input }) => listMembers(ctx.db, ctx.actor, input)),
  addMember: authedProcedure
    .meta(rest("POST", "/projects/{projectId}/members", "Add a member"))
    .input(addMemberInput)
    .mutation(({ ctx, input }) => addMember(ctx.db, ctx.actor, input)),
  updateMember: authedProcedure
    .meta(rest("PATCH", "/projects/{projectId}/members/{userId}", "Change a member's role"))
    .input(updateMemberInput)
    .mutation(({ ctx, input }) => updateMember(ctx.db, ctx.actor, input)),
  removeMember: authedProcedure
    .meta(rest("DELETE", "/projects/{projectId}/members/{userId}", "Remove a member"))
    .input(removeMemberInput)
    .mutation(({ ctx, input }) => removeMember(ctx.db, ctx.actor, input)),
});
