import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import { REST_BASE_PATH } from "./paths";
import { restRouter } from "./router";

let document: OpenAPIObject | undefined;

/** The OpenAPI 3.1 document of /api/v1, generated once from the REST router. */
export function openApiDocument(): OpenAPIObject {
  document ??= generateOpenApiDocument(restRouter, {
    title: "TestTrack",
    version: "1",
    description:
      "REST for every language, generated from the same procedures as the tRPC API at /trpc. " +
      "Every route but POST /auth/login needs `Authorization: Bearer <token>` (a session " +
      "token from /auth/login or an API token). Errors answer `{ code, message, issues? }`; " +
      "`issues` lists invalid fields by path. Names are camelCase; the seed's `test_case_id` " +
      "is accepted beside `testCaseId`.",
    baseUrl: REST_BASE_PATH,
    securitySchemes: {
      bearerAuth: { type: "http", scheme: "bearer", description: "A session or API token" },
    },
  });
  document.paths = { ...document.paths };
  for (const [path, item] of Object.entries(ARTIFACT_ROUTES)) {
    document.paths[path] = { ...document.paths[path], ...item };
  }
  return document;
}

const idParameter = (description: string) => ({
  name: "id",
  in: "path" as const,
  required: true,
  description,
  schema: { type: "integer" as const, minimum: 1 },
});

/**
 * The two artifact routes that are not procedures (src/artifacts.ts): raw bytes in and out, so
 * they are described here by hand.
 */
const ARTIFACT_ROUTES: NonNullable<OpenAPIObject["paths"]> = {
  "/executions/{id}/artifacts": {
    post: {
      operationId: "artifact-upload",
      summary: "Upload an artifact (the raw body, streamed)",
      description:
        "Member role. Describe the file by query (or X-Artifact-Name, X-Artifact-Kind, " +
        "X-Artifact-Step and Content-Type). Over TESTTRACK_ARTIFACT_MAX_BYTES or the " +
        "per-execution count: 413, nothing stored.",
      tags: ["artifact"],
      security: [{ bearerAuth: [] }],
      parameters: [
        idParameter("The execution"),
        { name: "name", in: "query", required: true, schema: { type: "string", maxLength: 255 } },
        {
          name: "kind",
          in: "query",
          schema: { type: "string", enum: ["screenshot", "video", "trace", "log", "other"] },
        },
        { name: "contentType", in: "query", schema: { type: "string" } },
        { name: "stepNumber", in: "query", schema: { type: "integer", minimum: 1 } },
      ],
      requestBody: {
        required: true,
        content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
      },
      responses: {
        "201": { description: "The stored artifact, with a signed download URL" },
        "400": { description: "Invalid description (a path as name, a malformed type)" },
        "401": { description: "No or a bad token" },
        "403": { description: "Below the member role" },
        "404": { description: "No such execution, or not yours to see" },
        "413": { description: "Over the size or count limit; nothing stored" },
      },
    },
  },
  "/artifacts/{id}": {
    get: {
      operationId: "artifact-download",
      summary: "Download an artifact",
      description:
        "Reader role, or a signed URL from execution.get (`expires` and `signature` query, 30 " +
        "minutes). Answers ETag and Range; images, webm/mp4 and text/plain inline, everything " +
        "else as an attachment; always nosniff and a sandbox CSP.",
      tags: ["artifact"],
      security: [{ bearerAuth: [] }],
      parameters: [
        idParameter("The artifact"),
        { name: "expires", in: "query", schema: { type: "integer" } },
        { name: "signature", in: "query", schema: { type: "string" } },
      ],
      responses: {
        "200": { description: "The bytes" },
        "206": { description: "The requested range" },
        "304": { description: "Not modified (If-None-Match)" },
        "401": { description: "No or a bad token" },
        "403": { description: "An expired or tampered signed URL" },
        "404": { description: "No such artifact, or not yours to see" },
        "416": { description: "The range is outside the file" },
      },
    },
  },
};
