import {
  addQuarantine,
  addQuarantineInput,
  listQuarantine,
  listQuarantineInput,
  removeQuarantine,
  removeQuarantineInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const quarantineRouter = router({
  /** Quarantines a test (maintainer): its failures stop failing runs until expiry or removal. */
  add: authedProcedure
    .input(addQuarantineInput)
    .mutation(({ ctx, input }) => addQuarantine(ctx.db, ctx.actor, input)),
  /** Takes a test out of quarantine (maintainer). */
  remove: authedProcedure
    .input(removeQuarantineInput)
    .mutation(({ ctx, input }) => removeQuarantine(ctx.db, ctx.actor, input)),
  /** The project's quarantine (member): reporters fetch it at run start. */
  list: authedProcedure
    .input(listQuarantineInput)
    .query(({ ctx, input }) => listQuarantine(ctx.db, ctx.actor, input)),
});
