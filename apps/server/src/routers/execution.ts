import {
  deleteExecution,
  executionHistory,
  executionHistoryInput,
  executionIdInput,
  getExecution,
  listExecutions,
  listExecutionsInput,
  startExecution,
  startExecutionInput,
  updateExecution,
  updateExecutionInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const executionRouter = router({
  /** [POST /tests/{id}/execute] */
  start: authedProcedure
    .input(startExecutionInput)
    .mutation(({ ctx, input }) => startExecution(ctx.db, ctx.user, input)),
  /** [GET /tests/{id}/executions] */
  history: authedProcedure
    .input(executionHistoryInput)
    .query(({ ctx, input }) => executionHistory(ctx.db, ctx.user, input)),
  /** [GET /executions] */
  list: authedProcedure
    .input(listExecutionsInput)
    .query(({ ctx, input }) => listExecutions(ctx.db, ctx.user, input)),
  /** [GET /executions/{id}] */
  get: authedProcedure
    .input(executionIdInput)
    .query(({ ctx, input }) => getExecution(ctx.db, ctx.user, input)),
  update: authedProcedure
    .input(updateExecutionInput)
    .mutation(({ ctx, input }) => updateExecution(ctx.db, ctx.user, input)),
  /** [DELETE /executions/{id}] */
  delete: authedProcedure
    .input(executionIdInput)
    .mutation(({ ctx, input }) => deleteExecution(ctx.db, ctx.user, input)),
});
