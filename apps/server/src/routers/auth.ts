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
import { rest } from "../rest/meta";
import { authedProcedure, publicProcedure, router } from "../trpc";

export const authRouter = router({
  login: publicProcedure
    .meta(
      rest("POST", "/auth/login", "Sign in with email and password: a session token", {
        public: true,
      }),
    )
    .input(loginInput)
    .mutation(({ ctx, input }) => login(ctx.db, input)),
  /** The signed-in user, their personal project and, for a project token, its reach. */
  me: authedProcedure.meta(rest("GET", "/auth/me", "The signed-in user")).query(({ ctx }) => ({
    ...ctx.user,
    personalProjectId: ctx.actor.personalProjectId ?? null,
    tokenScope: ctx.actor.scope ?? null,
  })),
  logout: authedProcedure
    .meta(rest("POST", "/auth/logout", "Revoke the token this request carries"))
    .mutation(async ({ ctx }) => {
      await revokeTokenById(ctx.db, ctx.session.tokenId);
      return { ok: true as const };
    }),
  createApiToken: authedProcedure
    .meta(rest("POST", "/auth/tokens", "Create an API token (shown once)"))
    .input(createApiTokenInput)
    .mutation(({ ctx, input }) => createApiToken(ctx.db, ctx.actor, input)),
  listApiTokens: authedProcedure
    .meta(rest("GET", "/auth/tokens", "Your API tokens (never the tokens themselves)"))
    .query(({ ctx }) => listApiTokens(ctx.db, ctx.actor)),
  revokeApiToken: authedProcedure
    .meta(rest("DELETE", "/auth/tokens/{id}", "Revoke an API token"))
    .input(revokeApiTokenInput)
    .mutation(({ ctx, input }) => revokeApiToken(ctx.db, ctx.actor, input)),
});
