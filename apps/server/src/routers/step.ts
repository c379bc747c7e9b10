import {
  listSteps,
  listStepsInput,
  recordStepsInput,
  recordValidatedSteps,
  updateStep,
  updateStepInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const stepRouter = router({
  record: authedProcedure
    .input(recordStepsInput)
    .mutation(({ ctx, input }) => recordValidatedSteps(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .input(listStepsInput)
    .query(({ ctx, input }) => listSteps(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .input(updateStepInput)
    .mutation(({ ctx, input }) => updateStep(ctx.db, ctx.actor, input)),
});
