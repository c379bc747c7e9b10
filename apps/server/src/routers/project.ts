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
import { authedProcedure, router } from "../trpc";

export const projectRouter = router({
  create: authedProcedure
    .input(createProjectInput)
    .mutation(({ ctx, input }) => createProject(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .input(listProjectsInput)
    .query(({ ctx, input }) => listProjects(ctx.db, ctx.actor, input)),
  /** By id or by slug. */
  get: authedProcedure
    .input(getProjectInput)
    .query(({ ctx, input }) => getProject(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .input(updateProjectInput)
    .mutation(({ ctx, input }) => updateProject(ctx.db, ctx.actor, input)),
  delete: authedProcedure
    .input(projectIdInput)
    .mutation(({ ctx, input }) => deleteProject(ctx.db, ctx.actor, input)),
  members: authedProcedure
    .input(listMembersInput)
    .query(({ ctx, input }) => listMembers(ctx.db, ctx.actor, input)),
  addMember: authedProcedure
    .input(addMemberInput)
    .mutation(({ ctx, input }) => addMember(ctx.db, ctx.actor, input)),
  updateMember: authedProcedure
    .input(updateMemberInput)
    .mutation(({ ctx, input }) => updateMember(ctx.db, ctx.actor, input)),
  removeMember: authedProcedure
    .input(removeMemberInput)
    .mutation(({ ctx, input }) => removeMember(ctx.db, ctx.actor, input)),
});
