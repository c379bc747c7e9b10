import {
  addQuarantine,
  addQuarantineInput,
  listQuarantine,
  listQuarantineInput,
  removeQuarantine,
  removeQuarantineInput,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const quarantineRouter = router({
  /** Quarantines a test (maintainer): its failures stop failing runs until expiry or removal. */
  add: authedProcedure
    .meta(rest("POST", "/tests/{testCaseId}/quarantine", "Quarantine a test"))
    .input(addQuarantineInput)
    .mutation(({ ctx, input }) => addQuarantine(ctx.db, ctx.actor, input)),
  /** Takes a test out of quarantine (maintainer). */
  remove: authedProcedure
    .meta(rest("DELETE", "/tests/{testCaseId}/quarantine", "Take a test out of quarantine"))
    .input(removeQuarantineInput)
    .mutation(({ ctx, input }) => removeQuarantine(ctx.db, ctx.actor, input)),
  /** The project's quarantine (member): reporters fetch it at run start. */
  list: authedProcedure
    .meta(rest("GET", "/quarantine", "A project's quarantined tests"))
    .input(listQuarantineInput)
    .query(({ ctx, input }) => listQuarantine(ctx.db, ctx.actor, input)),
});
