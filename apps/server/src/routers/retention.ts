import { previewRetention } from "@testtrack/core";
import { rest } from "../rest/meta";
import { adminProcedure, router } from "../trpc";

export const retentionRouter = router({
  /**
   * What retention would delete now, deleting nothing: the step partitions and executions past
   * the instance-wide horizon (TESTTRACK_RETENTION_DAYS), each project's expired executions
   * (retentionDays) and artifacts (artifactRetentionDays).
   */
  preview: adminProcedure
    .meta(rest("GET", "/retention/preview", "What retention would delete now (admin)"))
    .query(({ ctx }) => previewRetention(ctx.db, { instanceRetentionDays: ctx.retentionDays })),
});
