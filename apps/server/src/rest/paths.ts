// Where REST lives, without the REST layer itself: http.ts routes by these while the layer
// (trpc-to-openapi and what it imports) is still loading.
export const REST_BASE_PATH = "/api/v1";
export const OPENAPI_PATH = `${REST_BASE_PATH}/openapi.json`;
export const DOCS_PATH = "/api/docs";

export function isDocsPath(path: string): boolean {
  return path === DOCS_PATH || path.startsWith(`${DOCS_PATH}/`);
}

export function isRestPath(path: string): boolean {
  return path === REST_BASE_PATH || path.startsWith(`${REST_BASE_PATH}/`) || isDocsPath(path);
}
