import { initTRPC, TRPCError } from "@trpc/server";
import type { TRPC_ERROR_CODE_KEY } from "@trpc/server/rpc";
import { ZodError, z } from "zod";
import type { Context } from "./context";
import { describeZodError, inputIssues, toTRPCError } from "./errors";
import type { RestMeta } from "./rest/meta";

/** Field errors by top-level field, as z.flattenError gives them. */
interface FlattenedInputError {
  formErrors: string[];
  fieldErrors: Record<string, string[] | undefined>;
}

/** One invalid field: `path` locates it in the input (e.g. ["steps", 0, "result"]). */
interface InputIssue {
  path: (string | number)[];
  message: string;
}

function toInputIssue(issue: z.core.$ZodIssue): InputIssue {
  const path = issue.path.map((key) => (typeof key === "symbol" ? String(key) : key));
  return { path, message: issue.message };
}

// Messages for errors the adapter raises with no message of its own but the bare code.
const ADAPTER_MESSAGES: Partial<Record<TRPC_ERROR_CODE_KEY, string>> = {
  INTERNAL_SERVER_ERROR: "internal server error; the request id in the server log has the details",
  PAYLOAD_TOO_LARGE:
    "the request body is too large for this server; send fewer steps or a shorter log per call",
};

const t = initTRPC
  .context<Context>()
  .meta<RestMeta>()
  .create({
    // Subscriptions over server-sent events: a ping every 15 s keeps proxies from closing a quiet
    // stream, and a client that hears nothing for 40 s reconnects (resuming from its last event).
    sse: {
      ping: { enabled: true, intervalMs: 15_000 },
      client: { reconnectAfterInactivityMs: 40_000 },
    },
    errorFormatter({ shape, error, ctx }) {
      const zodError = error.cause instanceof ZodError ? error.cause : null;
      const generic = error.code === "INTERNAL_SERVER_ERROR" || error.message === error.code;
      return {
        ...shape,
        message: zodError
          ? describeZodError(zodError)
          : generic
            ? (ADAPTER_MESSAGES[error.code] ?? shape.message)
            : shape.message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          requestId: ctx?.requestId,
          zodError: zodError ? (z.flattenError(zodError) as FlattenedInputError) : null,
          issues: zodError ? inputIssues(zodError).map(toInputIssue) : null,
          ...(ctx?.development && shape.data.stack ? { stack: shape.data.stack } : {}),
        },
      };
    },
  });

/**
 * Maps domain and database errors to tRPC codes: the one place where that happens, for calls
 * and for the events of subscriptions (whose errors arise while they are being read).
 */
const mapErrors = t.middleware(async ({ next }) => {
  const result = await next();
  if (!result.ok) {
    const mapped = toTRPCError(result.error.cause ?? result.error);
    if (mapped) throw mapped;
  }
  if (result.ok && isAsyncIterable(result.data)) {
    return { ...result, data: withMappedErrors(result.data) };
  }
  return result;
});

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && Symbol.asyncIterator in value;
}

async function* withMappedErrors<T>(events: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* events;
  } catch (error) {
    throw toTRPCError(error) ?? error;
  }
}

/** A mutation keeps its token's next reads on the primary: a client sees its own writes. */
const readYourWrites = t.middleware(async ({ ctx, type, next }) => {
  if (type !== "mutation") return next();
  ctx.wrote();
  try {
    return await next();
  } finally {
    ctx.wrote();
  }
});

const authenticated = t.middleware(async ({ ctx, next }) => {
  const session = await ctx.authenticate();
  return next({ ctx: { ...ctx, user: session.user, actor: session.actor, session } });
});

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors).use(readYourWrites);
export const authedProcedure = publicProcedure.use(authenticated);
export const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.user.role !== "admin") {
    throw new TRPCError({ code: "FORBIDDEN", message: "only an admin can do this" });
  }
  if (ctx.actor.scope) {
    throw new TRPCError({
      code: "FORBIDDEN",
      message: "a project token cannot manage users; sign in as the admin instead",
    });
  }
  return next({ ctx });
});
