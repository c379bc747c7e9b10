import {
  cancelRun,
  compareRuns,
  compareRunsInput,
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
import { authedProcedure, router } from "../trpc";

export const runRouter = router({
  /** Starts the run of (project, key), or joins it: every shard and retry of a build calls it. */
  start: authedProcedure
    .input(startRunInput)
    .mutation(({ ctx, input }) => startRun(ctx.db, ctx.actor, input)),
  finishShard: authedProcedure
    .input(finishShardInput)
    .mutation(({ ctx, input }) => finishShard(ctx.db, ctx.actor, input)),
  finish: authedProcedure
    .input(finishRunInput)
    .mutation(({ ctx, input }) => finishRun(ctx.db, ctx.actor, input)),
  cancel: authedProcedure
    .input(runIdInput)
    .mutation(({ ctx, input }) => cancelRun(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .input(listRunsInput)
    .query(({ ctx, input }) => listRuns(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(getRunInput)
    .query(({ ctx, input }) => getRun(ctx.db, ctx.actor, input)),
  compare: authedProcedure
    .input(compareRunsInput)
    .query(({ ctx, input }) => compareRuns(ctx.db, ctx.actor, input)),
});
