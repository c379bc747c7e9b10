import {
  ConflictError,
  DomainError,
  ForbiddenError,
  InvalidInputError,
  NotFoundError,
  RateLimitedError,
  UnauthorizedError,
} from "@testtrack/core";
import { TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError, type z } from "zod";
import { MissingTokenError } from "./context";

const DOMAIN_CODES: [new (...args: never[]) => Error, TRPC_ERROR_CODE_KEY][] = [
  [NotFoundError, "NOT_FOUND"],
  [ConflictError, "CONFLICT"],
  [UnauthorizedError, "UNAUTHORIZED"],
  [MissingTokenError, "UNAUTHORIZED"],
  [ForbiddenError, "FORBIDDEN"],
  [RateLimitedError, "TOO_MANY_REQUESTS"],
  [InvalidInputError, "BAD_REQUEST"],
];

// PostgreSQL SQLSTATE classes that describe the request, not a server fault.
const SQLSTATE_CODES: Record<string, [TRPC_ERROR_CODE_KEY, string]> = {
  "23505": ["CONFLICT", "this object already exists"],
  "23503": ["CONFLICT", "a referenced object no longer exists"],
  "40001": ["CONFLICT", "a concurrent change got in the way; retry the request"],
  "40P01": ["CONFLICT", "a concurrent change got in the way; retry the request"],
  "22001": ["BAD_REQUEST", "a value is longer than allowed"],
  "22021": ["BAD_REQUEST", "text must not contain NUL (\\u0000) characters"],
  "22P05": ["BAD_REQUEST", "text must not contain NUL (\\u0000) characters"],
  "57P01": ["SERVICE_UNAVAILABLE", "the database is restarting; retry shortly"],
  "57P03": ["SERVICE_UNAVAILABLE", "the database is starting up; retry shortly"],
};

const CONNECTION_ERRORS = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

function* causes(error: unknown): Generator<unknown> {
  let current = error;
  for (let depth = 0; current && depth < 8; depth++) {
    yield current;
    current = (current as { cause?: unknown }).cause;
  }
}

/**
 * Turns whatever a procedure threw into the TRPCError a client should see: domain errors keep
 * their message under the matching code, database outages become SERVICE_UNAVAILABLE (so
 * clients retry), and anything else stays an INTERNAL_SERVER_ERROR with a generic message.
 */
export function toTRPCError(error: unknown): TRPCError | undefined {
  for (const cause of causes(error)) {
    if (cause instanceof TRPCError && cause !== error) return cause;
    if (cause instanceof DomainError || cause instanceof MissingTokenError) {
      const match = DOMAIN_CODES.find(([type]) => cause instanceof type);
      if (match) return new TRPCError({ code: match[1], message: cause.message, cause });
    }
    if (cause instanceof ZodError) {
      return new TRPCError({ code: "BAD_REQUEST", message: describeZodError(cause), cause });
    }
    const code = (cause as { code?: unknown }).code;
    if (typeof code === "string" && SQLSTATE_CODES[code]) {
      const [trpcCode, message] = SQLSTATE_CODES[code];
      return new TRPCError({ code: trpcCode, message, cause });
    }
    if (typeof code === "string" && CONNECTION_ERRORS.has(code)) {
      return new TRPCError({
        code: "SERVICE_UNAVAILABLE",
        message: "the database is unavailable; retry shortly",
        cause,
      });
    }
  }
  return undefined;
}

/**
 * The issues of a failed parse, with failed unions (e.g. `steps`: one step or an array of them)
 * replaced by the issues of the branch the input was meant for, so paths reach the bad field.
 */
export function inputIssues(error: ZodError): z.core.$ZodIssue[] {
  return error.issues.flatMap(openUnion);
}

function openUnion(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union") return [issue];
  // A branch failing only with a wrong type at its root was not the shape the caller sent.
  const meant = issue.errors.filter((branch) =>
    branch.some((inner) => inner.code !== "invalid_type" || inner.path.length > 0),
  );
  if (meant.length !== 1 || !meant[0]) return [issue];
  return meant[0].flatMap((inner) => openUnion({ ...inner, path: [...issue.path, ...inner.path] }));
}

/** One readable line: `steps.0.result: Invalid option: expected one of "pass"|"fail"|...`. */
export function describeZodError(error: ZodError): string {
  const issues = inputIssues(error);
  const parts = issues.slice(0, 5).map((issue) => {
    const path = issue.path.join(".");
    return path ? `${path}: ${issue.message}` : issue.message;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : "";
  return `invalid input: ${parts.join("; ")}${more}`;
}
