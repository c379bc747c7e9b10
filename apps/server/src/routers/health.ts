import { failureGroupsInput, listFailureGroups } from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const healthRouter = router({
  /** Failures grouped by fingerprint, per project or per run (`isNew`: first seen in the run). */
  failureGroups: authedProcedure
    .input(failureGroupsInput)
    .query(({ ctx, input }) => listFailureGroups(ctx.db, ctx.actor, input)),
});
