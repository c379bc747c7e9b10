import { previewProjectRetention } from "@testtrack/core";
import { rest } from "../rest/meta";
import { adminProcedure, router } from "../trpc";

export const retentionRouter = router({
  /** What project retention would delete now, per project with retentionDays; deletes nothing. */
  preview: adminProcedure
    .meta(rest("GET", "/retention/preview", "What project retention would delete now (admin)"))
    .query(({ ctx }) => previewProjectRetention(ctx.db)),
});
