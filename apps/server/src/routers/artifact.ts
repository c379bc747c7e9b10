import { artifactIdInput, deleteArtifact } from "@testtrack/core";
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

/** Uploads and downloads are HTTP routes (src/artifacts.ts): raw bytes, not JSON. */
export const artifactRouter = router({
  delete: authedProcedure
    .meta(rest("DELETE", "/artifacts/{id}", "Delete an artifact (its bytes follow after commit)"))
    .input(artifactIdInput)
    .mutation(({ ctx, input }) => deleteArtifact(ctx.db, ctx.actor, input)),
});
