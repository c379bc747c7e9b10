import {
  createTestCase,
  createTestCaseInput,
  deleteTestCase,
  getTestCase,
  listTestCases,
  listTestCasesInput,
  testCaseIdInput,
  updateTestCase,
  updateTestCaseInput,
} from "@testtrack/core";
import { authedProcedure, router } from "../trpc";

export const testCaseRouter = router({
  create: authedProcedure
    .input(createTestCaseInput)
    .mutation(({ ctx, input }) => createTestCase(ctx.db, ctx.user, input)),
  get: authedProcedure
    .input(testCaseIdInput)
    .query(({ ctx, input }) => getTestCase(ctx.db, ctx.user, input)),
  list: authedProcedure
    .input(listTestCasesInput)
    .query(({ ctx, input }) => listTestCases(ctx.db, ctx.user, input)),
  update: authedProcedure
    .input(updateTestCaseInput)
    .mutation(({ ctx, input }) => updateTestCase(ctx.db, ctx.user, input)),
  delete: authedProcedure
    .input(testCaseIdInput)
    .mutation(({ ctx, input }) => deleteTestCase(ctx.db, ctx.user, input)),
});
