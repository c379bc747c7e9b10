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
  me: authedProcedure.query(({ ctx }) => ctx.user),
  logout: authedProcedure.mutation(async ({ ctx }) => {
    await revokeTokenById(ctx.db, ctx.session.tokenId);
    return { ok: true as const };
  }),
  createApiToken: authedProcedure
    .input(createApiTokenInput)
    .mutation(({ ctx, input }) => createApiToken(ctx.db, ctx.user, input)),
  listApiTokens: authedProcedure.query(({ ctx }) => listApiTokens(ctx.db, ctx.user)),
  revokeApiToken: authedProcedure
    .input(revokeApiTokenInput)
    .mutation(({ ctx, input }) => revokeApiToken(ctx.db, ctx.user, input)),
});
