import {
  failureGroupsInput,
  listFailureGroups,
  testHealth,
  testHealthInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const healthRouter = router({
  /** Failures grouped by fingerprint, per project or per run (`isNew`: first seen in the run). */
  failureGroups: authedProcedure
    .input(failureGroupsInput)
    .query(({ ctx, input }) => listFailureGroups(ctx.db, ctx.actor, input)),
  /** One test: its latest outcomes, pass rate, durations, flaky runs and failure groups. */
  test: authedProcedure
    .input(testHealthInput)
    .query(({ ctx, input }) => testHealth(ctx.db, ctx.actor, input)),
});
