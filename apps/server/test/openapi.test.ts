import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import SwaggerParser from "@apidevtools/swagger-parser";
import openapiTS, { astToString } from "openapi-typescript";
import { describe, expect, it } from "vitest";
import { openApiDocument } from "../src/rest/document";
import { REST_OUTPUTS } from "../src/rest/outputs";
import { NOT_REST, REST_NAMES } from "../src/rest/routes";
import { appRouter } from "../src/router";

const run = promisify(execFile);

type Meta = { openapi?: { method: string; path: string } } | undefined;
const procedures = Object.entries(appRouter._def.procedures).map(([path, procedure]) => ({
  path,
  meta: (procedure as unknown as { _def: { meta?: Meta } })._def.meta,
}));

describe("the OpenAPI document", () => {
  it("validates as OpenAPI 3.1 with 0 errors", async () => {
    const document = structuredClone(openApiDocument());
    expect(document.openapi).toBe("3.1.0");
    await expect(SwaggerParser.validate(document as never)).resolves.toBeTruthy();
  });

  it("names bearer auth, required everywhere but at sign-in", () => {
    const document = openApiDocument();
    expect(document.components?.securitySchemes?.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
    });
    for (const [path, item] of Object.entries(document.paths ?? {})) {
      for (const [method, operation] of Object.entries(
        item as Record<string, { security?: unknown }>,
      )) {
        const expected = path === "/auth/login" ? undefined : [{ bearerAuth: [] }];
        expect(operation.security, `${method} ${path}`).toEqual(expected);
      }
    }
  });

  it("has a route for every procedure, or the procedure is on the allow-list with a reason", () => {
    const missing = procedures
      .filter(({ path, meta }) => !meta?.openapi && !NOT_REST[path])
      .map(({ path }) => path);
    expect(
      missing,
      "procedures without a REST route: add .meta(rest(...)) or a NOT_REST reason",
    ).toEqual([]);
    // An allow-listed procedure that has since got a route is listed no more. (One that does not
    // exist yet may be: procedures of work in progress are listed before they land.)
    const stale = Object.keys(NOT_REST).filter((path) =>
      procedures.some((procedure) => procedure.path === path && procedure.meta?.openapi),
    );
    expect(stale).toEqual([]);
    for (const reason of Object.values(NOT_REST)) expect(reason.length).toBeGreaterThan(10);
    // The REST layer's own tables name routes that exist.
    const routed = new Set(procedures.filter(({ meta }) => meta?.openapi).map(({ path }) => path));
    const unknown = [...Object.keys(REST_OUTPUTS), ...Object.keys(REST_NAMES)].filter(
      (path) => !routed.has(path),
    );
    expect(unknown).toEqual([]);

    const operations = Object.values(openApiDocument().paths ?? {}).flatMap((item) =>
      Object.keys(item as object),
    );
    // Plus the artifact upload and download, raw-byte routes beside the procedures.
    expect(operations).toHaveLength(procedures.filter(({ meta }) => meta?.openapi).length + 2);
  });

  it("has the seed's six paths, with its query names", () => {
    const paths = openApiDocument().paths ?? {};
    const seed = [
      ["post", "/tests/{id}/execute"],
      ["get", "/tests/{id}/executions"],
      ["get", "/executions"],
      ["get", "/executions/stats"],
      ["get", "/executions/{id}"],
      ["delete", "/executions/{id}"],
    ] as const;
    for (const [method, path] of seed)
      expect(paths[path]?.[method], `${method} ${path}`).toBeTruthy();
    const names = (paths["/executions"]?.get?.parameters ?? []).map(
      (parameter) => (parameter as { name: string }).name,
    );
    expect(names).toEqual(
      expect.arrayContaining([
        "test_case_id",
        "testCaseId",
        "skip",
        "limit",
        "status",
        "result",
        "browser",
        "environment",
      ]),
    );
  });

  it("gives openapi-typescript types that type-check a call to each seed path with tsc", async () => {
    const types = astToString(await openapiTS(structuredClone(openApiDocument()) as never));
    const dir = await mkdtemp(join(tmpdir(), "testtrack-openapi-"));
    try {
      await writeFile(join(dir, "api.d.ts"), types);
      await writeFile(join(dir, "calls.ts"), SEED_CALLS);
      const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
      await writeFile(join(dir, "tsconfig.json"), JSON.stringify(TSCONFIG));
      const result = await run(process.execPath, [tsc, "-p", dir], { cwd: dir }).catch(
        (error: { stdout: string; stderr: string }) => error,
      );
      expect(`${result.stdout}${result.stderr}`).toBe("");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: "es2022",
    module: "es2022",
    moduleResolution: "bundler",
    lib: ["es2022", "dom"],
    types: [],
  },
  files: ["calls.ts"],
};

/** A fetch client typed only by the generated `paths`, calling each seed path. */
const SEED_CALLS = `
import type { paths } from "./api";

type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;
type Answer<P extends keyof paths, M extends keyof paths[P]> = paths[P][M] extends {
  responses: { 200: infer R };
}
  ? Json<R>
  : never;

const base = "http://127.0.0.1:3000/api/v1";
const headers = { authorization: "Bearer tt_example", "content-type": "application/json" };

function query(values: Record<string, string | number | undefined>): string {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined);
  return new URLSearchParams(entries.map(([k, v]) => [k, String(v)])).toString();
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(base + path, { method, headers, body: JSON.stringify(body) });
  return (await response.json()) as T;
}

type StartBody = NonNullable<paths["/tests/{id}/execute"]["post"]["requestBody"]>["content"]["application/json"];
type ListQuery = NonNullable<paths["/executions"]["get"]["parameters"]["query"]>;
type HistoryQuery = NonNullable<paths["/tests/{id}/executions"]["get"]["parameters"]["query"]>;
type StatsQuery = NonNullable<paths["/executions/stats"]["get"]["parameters"]["query"]>;
type ExecutionId = paths["/executions/{id}"]["get"]["parameters"]["path"]["id"];

export async function seedCalls(testCaseId: number) {
  const body: StartBody = { browser: "chromium", environment: "staging", triggeredBy: "ci_cd" };
  const started = await send<Answer<"/tests/{id}/execute", "post">>("POST", \`/tests/\${testCaseId}/execute\`, body);
  const executionId: number = started.executionId;

  const history: HistoryQuery = { skip: 0, limit: 10 };
  const page = await send<Answer<"/tests/{id}/executions", "get">>("GET", \`/tests/\${testCaseId}/executions?\${query(history)}\`);
  const total: number = page.total;

  const filters: ListQuery = { test_case_id: testCaseId, skip: 0, limit: 10, status: "completed", result: "pass", browser: "chromium", environment: "staging" };
  const list = await send<Answer<"/executions", "get">>("GET", \`/executions?\${query(filters)}\`);
  const firstTitle: string | undefined = list.items[0]?.testCaseTitle;

  const statsQuery: StatsQuery = { test_case_id: testCaseId };
  const stats = await send<Answer<"/executions/stats", "get">>("GET", \`/executions/stats?\${query(statsQuery)}\`);
  const passRate: number = stats.passRate;
  const completed: number = stats.byStatus.completed;

  const id: ExecutionId = executionId;
  const execution = await send<Answer<"/executions/{id}", "get">>("GET", \`/executions/\${id}\`);
  const stepCount: number = execution.steps.length;

  const deleted = await send<Answer<"/executions/{id}", "delete">>("DELETE", \`/executions/\${id}\`);
  const deletedId: number = deleted.id;

  // @ts-expect-error a status outside the enumeration does not type-check
  const wrong: ListQuery = { status: "done" };
  return { total, firstTitle, passRate, completed, stepCount, deletedId, wrong };
}
`;
