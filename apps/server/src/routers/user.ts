import {
  createUser,
  createUserInput,
  deleteUser,
  deleteUserInput,
  listUsers,
} from "@testtrack/core";
import { rest } from "../rest/meta";
import { adminProcedure, router } from "../trpc";

export const userRouter = router({
  create: adminProcedure
    .meta(rest("POST", "/users", "Create a user (admin)"))
    .input(createUserInput)
    .mutation(({ ctx, input }) => createUser(ctx.db, input)),
  list: adminProcedure
    .meta(rest("GET", "/users", "List users (admin)"))
    .query(({ ctx }) => listUsers(ctx.db)),
  delete: adminProcedure
    .meta(rest("DELETE", "/users/{id}", "Delete a user (admin)"))
    .input(deleteUserInput)
    .mutation(({ ctx, input }) => deleteUser(ctx.db, ctx.actor, input)),
});
