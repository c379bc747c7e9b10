import { type AnyTRPCProcedure, TRPCError } from "@trpc/server";
import { z } from "zod";
import { appRouter } from "../router";
import { router } from "../trpc";
import type { RestMeta } from "./meta";
import { REST_OUTPUTS, UNDOCUMENTED_OUTPUT } from "./outputs";
import { REST_NAMES, type RestNames } from "./routes";

/**
 * The REST view of the app router, which trpc-to-openapi serves and documents: one route per
 * procedure with `.meta(rest(...))`. Each route runs the procedure itself (same context, auth,
 * validation and errors); the view only adds what HTTP needs around it:
 * - query strings and path parameters arrive as text: numbers and booleans among them are read
 *   here, so the procedure's own schema decides as it does for JSON;
 * - the seed's names (`{id}` of a test case, `test_case_id`) become the procedure's;
 * - the documented input is a copy of the procedure's schema, because trpc-to-openapi switches
 *   on coercion in the schemas it serves, which must not change what /trpc accepts;
 * - the documented answer (outputs.ts).
 */

interface SchemaDef {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  element?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
}

type CallOptions = Parameters<AnyTRPCProcedure>[0];
/** What the view reads of a procedure (tRPC types `_def` loosely). */
type Procedure = ((opts: CallOptions) => Promise<unknown>) & {
  _def: { type: string; inputs: unknown[]; meta?: RestMeta };
};

const defOf = (schema: z.ZodType) => schema._zod.def as unknown as SchemaDef;
const cloned = (schema: z.ZodType, def: SchemaDef) =>
  (schema as unknown as { clone(def: SchemaDef): z.ZodType }).clone(def);

const WRAPPERS = ["innerType", "element", "in", "out"] as const;
const COERCIBLE = new Set(["number", "boolean", "bigint", "date"]);

/** A copy of `schema` down to every leaf that trpc-to-openapi may switch to coercion. */
function detached(
  schema: z.ZodType,
  editShape = (shape: Record<string, z.ZodType>) => shape,
): z.ZodType {
  const def = defOf(schema);
  if (def.type === "object" && def.shape) {
    const shape = Object.fromEntries(
      Object.entries(def.shape).map(([key, value]): [string, z.ZodType] => [key, detached(value)]),
    );
    return cloned(schema, { ...def, shape: editShape(shape) });
  }
  if (COERCIBLE.has(def.type)) return cloned(schema, { ...def });
  const inner = WRAPPERS.filter((key) => def[key]);
  if (inner.length === 0) return schema;
  const copies = inner.map((key) => [key, detached(def[key] as z.ZodType, editShape)]);
  return cloned(schema, { ...def, ...Object.fromEntries(copies) });
}

/** The procedure's input object's fields, through defaults, optionals and pipes. */
function fieldsOf(schema: z.ZodType | undefined): Record<string, z.ZodType> {
  for (let current = schema; current; ) {
    const def = defOf(current);
    if (def.type === "object") return def.shape ?? {};
    current = def.innerType ?? def.in;
  }
  return {};
}

function leafType(schema: z.ZodType | undefined): string | undefined {
  for (let current = schema; current; ) {
    const def = defOf(current);
    if (!def.innerType && !(def.type === "pipe" && def.in)) return def.type;
    current = def.innerType ?? def.in;
  }
  return undefined;
}

function documentedInput(input: z.ZodType, names: RestNames, pathParameters: string[]) {
  return detached(input, (fields) => {
    const shape = { ...fields };
    for (const [restName, name] of Object.entries(names.renamed ?? {})) {
      shape[restName] = shape[name] ?? z.never();
      delete shape[name];
    }
    for (const [alias, name] of Object.entries(names.aliases ?? {})) {
      const field = shape[name];
      if (field) shape[alias] = field.meta({ description: `the seed's name for ${name}` });
    }
    // A path parameter is always there, even where the procedure may do without it.
    for (const parameter of pathParameters) {
      const field = shape[parameter];
      const required = field && defOf(field).type === "optional" ? defOf(field).innerType : field;
      if (required) shape[parameter] = required;
    }
    return shape;
  });
}

const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;
const BOOLEANS: Record<string, boolean> = { true: true, false: false, "1": true, "0": false };

/** Text from a URL read as the field's type; anything else is left for the schema to refuse. */
function fromText(value: unknown, type: string | undefined): unknown {
  if (typeof value !== "string") return value;
  if (type === "number" && NUMBER.test(value)) return Number(value);
  if (type === "boolean" && value in BOOLEANS) return BOOLEANS[value];
  return value;
}

function toProcedureInput(
  raw: unknown,
  options: {
    fields: Record<string, z.ZodType>;
    names: RestNames;
    textKeys: (key: string) => boolean;
  },
): unknown {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
  const input: Record<string, unknown> = { ...raw };
  const { renamed = {}, aliases = {} } = options.names;
  for (const [restName, name] of Object.entries({ ...renamed, ...aliases })) {
    if (!(restName in input)) continue;
    const value = input[restName];
    delete input[restName];
    if (name in input && input[name] !== value) {
      throw new TRPCError({
        code: "BAD_REQUEST",
        message: `invalid input: ${restName}: give ${restName} or ${name}, not both`,
      });
    }
    input[name] = value;
  }
  for (const key of Object.keys(input)) {
    if (!options.textKeys(key) || !Object.hasOwn(options.fields, key)) continue;
    input[key] = fromText(input[key], leafType(options.fields[key]));
  }
  return input;
}

function pathParametersOf(path: string): string[] {
  return Array.from(path.matchAll(/\{(\w+)\}/g), (match) => match[1] as string);
}

function restProcedure(path: string, procedure: Procedure): Procedure {
  const openapi = procedure._def.meta?.openapi;
  if (!openapi) throw new Error(`${path} has no REST route`);
  const names = REST_NAMES[path] ?? {};
  const [input] = procedure._def.inputs as z.ZodType[];
  const pathParameters = pathParametersOf(openapi.path);
  const restNamesOfPath = new Set(pathParameters.map((key) => names.renamed?.[key] ?? key));
  const fromQuery = openapi.method === "GET" || openapi.method === "DELETE";
  const fields = fieldsOf(input);
  const view = (opts: CallOptions) =>
    procedure({
      ...opts,
      getRawInput: async () =>
        toProcedureInput(await opts.getRawInput(), {
          fields,
          names,
          textKeys: (key) => fromQuery || restNamesOfPath.has(key),
        }),
    });
  const tags = [path.split(".")[0] as string];
  return Object.assign(view, {
    _def: {
      ...procedure._def,
      inputs: input ? [documentedInput(input, names, pathParameters)] : [],
      output: REST_OUTPUTS[path] ?? UNDOCUMENTED_OUTPUT,
      meta: { ...procedure._def.meta, openapi: { ...openapi, tags } },
    },
  });
}

/** Fixed paths before templated ones, so /executions/stats is not /executions/{id}. */
function byPathSpecificity([, a]: [string, Procedure], [, b]: [string, Procedure]) {
  const templated = (procedure: Procedure) =>
    (procedure._def.meta?.openapi?.path.match(/\{/g) ?? []).length;
  return templated(a) - templated(b);
}

export function restProcedures(): [string, Procedure][] {
  return (Object.entries(appRouter._def.procedures) as unknown as [string, Procedure][])
    .filter(([, procedure]) => procedure._def.meta?.openapi)
    .sort(byPathSpecificity);
}

export const restRouter = router(
  Object.fromEntries(
    restProcedures().map(([path, procedure]) => [
      path,
      restProcedure(path, procedure) as unknown as AnyTRPCProcedure,
    ]),
  ),
);
