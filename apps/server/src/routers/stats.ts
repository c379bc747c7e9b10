import { executionStatistics, statisticsInput } from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const statsRouter = router({
  /** [GET /executions/stats] */
  get: authedProcedure
    .input(statisticsInput)
    .query(({ ctx, input }) => executionStatistics(ctx.db, ctx.actor, input)),
});
