import {
  createTestCase,
  createTestCaseInput,
  deleteTestCase,
  ensureTestCase,
  ensureTestCaseInput,
  ensureTestCases,
  ensureTestCasesInput,
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
    .mutation(({ ctx, input }) => createTestCase(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .input(testCaseIdInput)
    .query(({ ctx, input }) => getTestCase(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .input(listTestCasesInput)
    .query(({ ctx, input }) => listTestCases(ctx.db, ctx.actor, input)),
  update: authedProcedure
    .input(updateTestCaseInput)
    .mutation(({ ctx, input }) => updateTestCase(ctx.db, ctx.actor, input)),
  /** One test case by its key: found, or created; a changed title is updated. */
  ensure: authedProcedure
    .input(ensureTestCaseInput)
    .mutation(({ ctx, input }) => ensureTestCase(ctx.db, ctx.actor, input)),
  /** Up to 500 test cases by key in one statement, answered in input order. */
  ensureMany: authedProcedure
    .input(ensureTestCasesInput)
    .mutation(({ ctx, input }) => ensureTestCases(ctx.db, ctx.actor, input)),
  delete: authedProcedure
    .input(testCaseIdInput)
    .mutation(({ ctx, input }) => deleteTestCase(ctx.db, ctx.actor, input)),
});
