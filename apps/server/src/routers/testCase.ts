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
import { rest } from "../rest/meta";
import { authedProcedure, router } from "../trpc";

export const testCaseRouter = router({
  create: authedProcedure
    .meta(rest("POST", "/tests", "Create a test case"))
    .input(createTestCaseInput)
    .mutation(({ ctx, input }) => createTestCase(ctx.db, ctx.actor, input)),
  get: authedProcedure
    .meta(rest("GET", "/tests/{id}", "A test case"))
    .input(testCaseIdInput)
    .query(({ ctx, input }) => getTestCase(ctx.db, ctx.actor, input)),
  list: authedProcedure
    .meta(rest("GET", "/tests", "List test cases"))
    .input(listTestCasesInput)
    .query(({ ctx, input }) => listTestCases(ctx.readDb, ctx.actor, input)),
  update: authedProcedure
    .meta(rest("PATCH", "/tests/{id}", "Change a test case"))
    .input(updateTestCaseInput)
    .mutation(({ ctx, input }) => updateTestCase(ctx.db, ctx.actor, input)),
  /** One test case by its key: found, or created; a changed title is updated. */
  ensure: authedProcedure
    .meta(rest("POST", "/tests/ensure", "Find or create a test case by key"))
    .input(ensureTestCaseInput)
    .mutation(({ ctx, input }) => ensureTestCase(ctx.db, ctx.actor, input)),
  /** Up to 500 test cases by key in one statement, answered in input order. */
  ensureMany: authedProcedure
    .meta(rest("POST", "/tests/ensure-many", "Find or create up to 500 test cases by key"))
    .input(ensureTestCasesInput)
    .mutation(({ ctx, input }) => ensureTestCases(ctx.db, ctx.actor, input)),
  delete: authedProcedure
    .meta(rest("DELETE", "/tests/{id}", "Delete a test case and its executions"))
    .input(testCaseIdInput)
    .mutation(({ ctx, input }) => deleteTestCase(ctx.db, ctx.actor, input)),
});
