/** Procedures with no REST route, and why; the drift test (openapi.test.ts) holds every other to a route. */
export const NOT_REST: Record<string, string> = {
  "execution.onSteps": "a subscription (server-sent events): served at /trpc only",
};

/**
 * Where a REST name differs from the procedure's input name. `renamed`: the route uses the seed's
 * name instead (its path parameter `{id}` is the test case id); `aliases`: the seed's query names,
 * accepted beside the camelCase ones.
 */
export interface RestNames {
  renamed?: Record<string, string>;
  aliases?: Record<string, string>;
}

export const REST_NAMES: Record<string, RestNames> = {
  "execution.start": { renamed: { id: "testCaseId" } },
  "execution.history": { renamed: { id: "testCaseId" } },
  "execution.list": { aliases: { test_case_id: "testCaseId" } },
  "stats.get": { aliases: { test_case_id: "testCaseId" } },
};
