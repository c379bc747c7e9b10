import { generateOpenApiDocument, type OpenAPIObject } from "trpc-to-openapi";
import { restRouter } from "./router";

export const REST_BASE_PATH = "/api/v1";
export const OPENAPI_PATH = `${REST_BASE_PATH}/openapi.json`;

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
  return document;
}
