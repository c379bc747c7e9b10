import {
  createApiToken,
  createApiTokenInput,
  listApiTokens,
  login,
  loginInput,
  revokeApiToken,
  revokeApiTokenInput,
  revokeTokenById,
} from "@testtrack/core";
import { authedProcedure, publicProcedure, router } from "../trpc";

export const authRouter = router({
  login: publicProcedure.input(loginInput).mutation(({ ctx, input }) => login(ctx.db, input)),
  /** The signed-in user, their personal project and, for a project token, its reach. */
  me: authedProcedure.query(({ ctx }) => ({
    ...ctx.user,
    personalProjectId: ctx.actor.personalProjectId ?? null,
    tokenScope: ctx.actor.scope ?? null,
  })),
  logout: authedProcedure.mutation(async ({ ctx }) => {
    await revokeTokenById(ctx.db, ctx.session.tokenId);
    return { ok: true as const };
  }),
  createApiToken: authedProcedure
    .input(createApiTokenInput)
    .mutation(({ ctx, input }) => createApiToken(ctx.db, ctx.actor, input)),
  listApiTokens: authedProcedure.query(({ ctx }) => listApiTokens(ctx.db, ctx.actor)),
  revokeApiToken: authedProcedure
    .input(revokeApiTokenInput)
    .mutation(({ ctx, input }) => revokeApiToken(ctx.db, ctx.actor, input)),
});
