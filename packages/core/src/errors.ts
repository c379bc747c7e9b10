/** Domain errors: the server maps each kind to one tRPC code in a single place. */
export class DomainError extends Error {
  override name = "DomainError";
}

/** The object does not exist, or the caller may not see it: the two are indistinguishable. */
export class NotFoundError extends DomainError {
  override name = "NotFoundError";
  constructor(entity: string, id: number | string) {
    super(`${entity} ${id} was not found`);
  }
}

/** The request contradicts the object's current state (lifecycle, idempotency, uniqueness). */
export class ConflictError extends DomainError {
  override name = "ConflictError";
}

/** Credentials missing, wrong, expired or revoked. */
export class UnauthorizedError extends DomainError {
  override name = "UnauthorizedError";
}

/** Authenticated, but the role does not allow the action. */
export class ForbiddenError extends DomainError {
  override name = "ForbiddenError";
}

/** Too many attempts; `retryAfterSeconds` says when to try again. */
export class RateLimitedError extends DomainError {
  override name = "RateLimitedError";
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

/** Input that passed its schema but breaks a rule needing the database (e.g. too many steps). */
export class InvalidInputError extends DomainError {
  override name = "InvalidInputError";
}

/** Whether `error`, or an error it was caused by (drizzle wraps the driver's), has this SQLSTATE. */
export function hasErrorCode(error: unknown, code: string): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if ((cause as { code?: unknown }).code === code) return true;
  }
  return false;
}
