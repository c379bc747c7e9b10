import {
  authenticateToken,
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
  watchStepsInput,
} from "@testtrack/core";
import { TRPCError } from "@trpc/server";
import { MissingTokenError } from "../context";
import { executionStepEvents } from "../live";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const executionRouter = router({
  /** [POST /tests/{id}/execute] */
  start: authedProcedure
    .meta(rest("POST", "/tests/{id}/execute", "Start an execution of a test case"))
    .input(startExecutionInput)
    .mutation(({ ctx, input }) => startExecution(ctx.db, ctx.actor, input)),
  /** [GET /tests/{id}/executions] */
  history: authedProcedure
    .meta(rest("GET", "/tests/{id}/executions", "A test case's executions"))
    .input(executionHistoryInput)
    .query(({ ctx, input }) => executionHistory(ctx.readDb, ctx.actor, input)),
  /** [GET /executions] */
  list: authedProcedure
    .meta(rest("GET", "/executions", "List executions"))
    .input(listExecutionsInput)
    .query(({ ctx, input }) => listExecutions(ctx.readDb, ctx.actor, input)),
  /** [GET /executions/{id}] */
  get: authedProcedure
    .meta(rest("GET", "/executions/{id}", "An execution with its steps"))
    .input(executionIdInput)
    .query(({ ctx, input }) => getExecution(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .meta(rest("PATCH", "/executions/{id}", "Change an execution's status, result or artifacts"))
    .input(updateExecutionInput)
    .mutation(({ ctx, input }) => updateExecution(ctx.db, ctx.actor, input)),
  /** [DELETE /executions/{id}] */
  delete: authedProcedure
    .meta(rest("DELETE", "/executions/{id}", "Delete an execution"))
    .input(executionIdInput)
    .mutation(({ ctx, input }) => deleteExecution(ctx.db, ctx.actor, input)),
  /** Live (server-sent events): the summary and new steps whenever they change, until it ends. */
  onSteps: authedProcedure.input(watchStepsInput).subscription(({ ctx, input, signal }) => {
    const { stepFeed } = ctx;
    if (!stepFeed) {
      throw new TRPCError({
        code: "METHOD_NOT_SUPPORTED",
        message: "live updates are served over HTTP (server-sent events) only",
      });
    }
    // Each event re-reads who the token names, so a revoked session stops receiving at once.
    const token = ctx.token;
    const currentActor = async () => {
      if (!token) throw new MissingTokenError();
      return (await authenticateToken(ctx.db, token)).actor;
    };
    return executionStepEvents({ db: ctx.db, stepFeed }, currentActor, input, signal);
  }),
});
