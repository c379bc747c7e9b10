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
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const healthRouter = router({
  /** Flaky tests over the window, most evidence first, with the evidence (runs, commits). */
  flaky: authedProcedure
    .meta(rest("GET", "/health/flaky", "Flaky tests of a project, most evidence first"))
    .input(flakyTestsInput)
    .query(({ ctx, input }) => listFlakyTests(ctx.readDb, ctx.actor, input)),
  /** Failures grouped by fingerprint, per project or per run (`isNew`: first seen in the run). */
  failureGroups: authedProcedure
    .meta(rest("GET", "/health/failure-groups", "Failure groups of a project or a run"))
    .input(failureGroupsInput)
    .query(({ ctx, input }) => listFailureGroups(ctx.readDb, ctx.actor, input)),
  /**
   * One test: its latest outcomes, pass rate, durations, flaky evidence, failure groups,
   * duration regression and quarantine.
   */
  test: authedProcedure
    .meta(rest("GET", "/tests/{testCaseId}/health", "One test's health"))
    .input(testHealthInput)
    .query(({ ctx, input }) => testHealth(ctx.readDb, ctx.actor, input)),
  /** Recomputes the project's health roll-ups from its finished runs (maintainer). */
  rebuild: authedProcedure
    .meta(rest("POST", "/health/rebuild", "Rebuild a project's health roll-ups"))
    .input(rebuildHealthInput)
    .mutation(({ ctx, input }) => rebuildHealth(ctx.db, ctx.actor, input)),
});
