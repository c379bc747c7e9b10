import { executionStatistics, statisticsInput } from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const statsRouter = router({
  /** [GET /executions/stats] */
  get: authedProcedure
    .meta(rest("GET", "/executions/stats", "Execution statistics"))
    .input(statisticsInput)
    .query(({ ctx, input }) => executionStatistics(ctx.readDb, ctx.actor, input)),
});
