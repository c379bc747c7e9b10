import {
  cancelRun,
  compareRuns,
  compareRunsInput,
  deleteRun,
  deleteRunInput,
  finishRun,
  finishRunInput,
  finishShard,
  finishShardInput,
  getRun,
  getRunInput,
  listRuns,
  listRunsInput,
  runIdInput,
  startRun,
  startRunInput,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const runRouter = router({
  /** Starts the run of (project, key), or joins it: every shard and retry of a build calls it. */
  start: authedProcedure
    .meta(rest("POST", "/runs", "Start or join the run of a CI build"))
    .input(startRunInput)
    .mutation(({ ctx, input }) => startRun(ctx.db, ctx.actor, input)),
  finishShard: authedProcedure
    .meta(rest("POST", "/runs/{runId}/shards/{shard}/finish", "Finish one shard of a run"))
    .input(finishShardInput)
    .mutation(({ ctx, input }) => finishShard(ctx.db, ctx.actor, input)),
  finish: authedProcedure
    .meta(rest("POST", "/runs/{runId}/finish", "Finish a run"))
    .input(finishRunInput)
    .mutation(({ ctx, input }) => finishRun(ctx.db, ctx.actor, input)),
  cancel: authedProcedure
    .meta(rest("POST", "/runs/{runId}/cancel", "Cancel a run"))
    .input(runIdInput)
    .mutation(({ ctx, input }) => cancelRun(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .meta(rest("GET", "/runs", "List runs"))
    .input(listRunsInput)
    .query(({ ctx, input }) => listRuns(ctx.readDb, ctx.actor, input)),
  get: authedProcedure
    .meta(rest("GET", "/runs/{id}", "A run with its tests"))
    .input(getRunInput)
    .query(({ ctx, input }) => getRun(ctx.db, ctx.actor, input)),
  /** Deletes the run with its executions; their artifacts' bytes follow after commit. */
  delete: authedProcedure
    .meta(rest("DELETE", "/runs/{id}", "Delete a run with its executions and their artifacts"))
    .input(deleteRunInput)
    .mutation(({ ctx, input }) => deleteRun(ctx.db, ctx.actor, input)),
  compare: authedProcedure
    .meta(rest("GET", "/runs/{runId}/compare", "Compare a run with a base run"))
    .input(compareRunsInput)
    .query(({ ctx, input }) => compareRuns(ctx.readDb, ctx.actor, input)),
});
