import type { OpenApiMeta, OpenApiMethod } from "trpc-to-openapi";

export type RestMeta = OpenApiMeta;

/**
 * A procedure's REST route under /api/v1, as `.meta(rest("GET", "/executions/{id}", "..."))`.
 * The tag is the procedure's namespace, added when the REST router is built (rest/router.ts).
 */
export function rest(
  method: OpenApiMethod,
  path: `/${string}`,
  summary: string,
  options: { public?: boolean; description?: string } = {},
): RestMeta {
  return {
    openapi: {
      method,
      path,
      summary,
      description: options.description,
      protect: !options.public,
    },
  };
}
