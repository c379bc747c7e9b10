import {
  createUser,
  createUserInput,
  deleteUser,
  deleteUserInput,
  listUsers,
} from "@testtrack/core";
import { adminProcedure, router } from "../trpc";

export const userRouter = router({
  create: adminProcedure
    .input(createUserInput)
    .mutation(({ ctx, input }) => createUser(ctx.db, input)),
  list: adminProcedure.query(({ ctx }) => listUsers(ctx.db)),
  delete: adminProcedure
    .input(deleteUserInput)
    .mutation(({ ctx, input }) => deleteUser(ctx.db, ctx.actor, input)),
});
