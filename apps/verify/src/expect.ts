import { type AppRouter, errorCode, TRPCClientError } from "@testtrack/client";

/** A check's expectation that the server did not meet; its message is what the [FAIL] line shows. */
export class CheckFailure extends Error {
  override name = "CheckFailure";
}

const SHOWN_CHARACTERS = 160;

function show(value: unknown): string {
  const text = typeof value === "string" ? value : (JSON.stringify(value) ?? String(value));
  return text.length > SHOWN_CHARACTERS ? `${text.slice(0, SHOWN_CHARACTERS)}…` : text;
}

export function expectEqual<T>(what: string, actual: T, expected: T): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    throw new CheckFailure(`${what}: expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function expectTrue(what: string, condition: boolean): void {
  if (!condition) throw new CheckFailure(what);
}

/** Awaits a call that must fail with the given tRPC code, and returns its error. */
export async function expectRefusal(
  what: string,
  call: Promise<unknown>,
  code: string,
): Promise<TRPCClientError<AppRouter>> {
  let outcome: unknown;
  try {
    outcome = await call;
  } catch (error) {
    if (errorCode(error) === code) return error as TRPCClientError<AppRouter>;
    throw new CheckFailure(`${what}: expected ${code}, got ${describeError(error)}`);
  }
  throw new CheckFailure(`${what}: expected ${code}, but it succeeded with ${show(outcome)}`);
}

/** The invalid fields a BAD_REQUEST names (`data.issues[].path`), joined with dots. */
export function issuePaths(error: TRPCClientError<AppRouter>): string[] {
  return (error.data?.issues ?? []).map((issue) => issue.path.join("."));
}

/** One line for any error: the tRPC code and message, or the error's own message. */
export function describeError(error: unknown): string {
  if (error instanceof CheckFailure) return error.message;
  const code = errorCode(error);
  if (error instanceof TRPCClientError) {
    if (code) return `${code}: ${error.message}`;
    const cause = rootCause(error);
    return cause === error ? error.message : `${error.message} (${cause.message})`;
  }
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The innermost `cause` of an error: for "fetch failed", the refused or reset connection. */
function rootCause(error: Error): Error {
  return error.cause instanceof Error ? rootCause(error.cause) : error;
}
