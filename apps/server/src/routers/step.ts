import {
  listSteps,
  listStepsInput,
  recordStepsInput,
  recordValidatedSteps,
  updateStep,
  updateStepInput,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const stepRouter = router({
  record: authedProcedure
    .meta(rest("POST", "/executions/{executionId}/steps", "Record one or many steps"))
    .input(recordStepsInput)
    .mutation(({ ctx, input }) => recordValidatedSteps(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .meta(rest("GET", "/executions/{executionId}/steps", "An execution's steps"))
    .input(listStepsInput)
    .query(({ ctx, input }) => listSteps(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .meta(rest("PATCH", "/steps/{id}", "Change a step"))
    .input(updateStepInput)
    .mutation(({ ctx, input }) => updateStep(ctx.db, ctx.actor, input)),
});
