import {
  failureGroupsInput,
  flakyTestsInput,
  listFailureGroups,
  listFlakyTests,
  rebuildHealth,
  rebuildHealthInput,
  testHealth,
  testHealthInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const healthRouter = router({
  /** Flaky tests over the window, most evidence first, with the evidence (runs, commits). */
  flaky: authedProcedure
    .input(flakyTestsInput)
    .query(({ ctx, input }) => listFlakyTests(ctx.db, ctx.actor, input)),
  /** Failures grouped by fingerprint, per project or per run (`isNew`: first seen in the run). */
  failureGroups: authedProcedure
    .input(failureGroupsInput)
    .query(({ ctx, input }) => listFailureGroups(ctx.db, ctx.actor, input)),
  /**
   * One test: its latest outcomes, pass rate, durations, flaky evidence, failure groups,
   * duration regression and quarantine.
   */
  test: authedProcedure
    .input(testHealthInput)
    .query(({ ctx, input }) => testHealth(ctx.db, ctx.actor, input)),
  /** Recomputes the project's health roll-ups from its finished runs (maintainer). */
  rebuild: authedProcedure
    .input(rebuildHealthInput)
    .mutation(({ ctx, input }) => rebuildHealth(ctx.db, ctx.actor, input)),
});
