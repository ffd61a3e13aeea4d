/**
 * The one error type of the service. Everything that answers with an error throws an ApiError (or is mapped
 * to one by the single error handler in src/http/errors.ts), so every error body has the contract's shape:
 * {"status_code", "error", "error_code", "details"}.
 */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export const notFound = (what = "resource") => new ApiError(404, "not_found", `${what} not found`);

/** 422 for a semantically invalid configuration, naming the field. */
export const invalidConfig = (field: string, message: string, code = "invalid_configuration") =>
  new ApiError(422, code, message, { field });

/** Result of a pure policy check: no throwing inside policies, the caller decides. */
export type Check<T> = { ok: true; value: T } | { ok: false; field: string; message: string; code?: string };
