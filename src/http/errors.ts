/** The one error handler: every error leaves the service in the contract's shape, with Cache-Control: no-store. */
import type { Context, MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "../errors";
import { isStorageFailure } from "../repo/errors";

const errorHeaders = (err: ApiError) => ({
  "content-type": "application/json; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  ...err.headers,
});

export function errorResponse(err: ApiError): Response {
  const body = { status_code: err.status, error: err.message, error_code: err.code, details: err.details };
  return new Response(JSON.stringify(body), { status: err.status, headers: errorHeaders(err) });
}

/**
 * The error answer of an OAuth endpoint (api.md "OpenID Connect"): RFC 6749 §5.2's `error` (the code) and
 * `error_description` (the message), with the project's status_code, error_code and details. A zod failure is
 * RFC 6749's invalid_request.
 */
export function oauthErrorResponse(err: unknown): Response {
  let e = toApiError(err);
  if (e.code === "validation_failed") e = new ApiError("invalid_request", e.message, e.details);
  if (e.status >= 500 && !(err instanceof ApiError)) console.error("unhandled error", err);
  const body = { error: e.code, error_description: e.message, status_code: e.status, error_code: e.code, details: e.details };
  return new Response(JSON.stringify(body), { status: e.status, headers: errorHeaders(e) });
}

/** Middleware of the OAuth endpoints (/oauth2/token, /oauth2/revoke): whatever failed answers in the OAuth shape. */
export const oauthErrors: MiddlewareHandler = async (c, next) => {
  await next();
  if (c.error) c.res = oauthErrorResponse(c.error);
};

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof HTTPException) {
    if (err.status === 413) return new ApiError("payload_too_large");
    if (err.status === 400) return new ApiError("invalid_request", err.message || "malformed request");
    if (err.status === 401) return new ApiError("unauthorized", "authentication required", {}, { "www-authenticate": "Bearer" });
    return new ApiError("invalid_request", err.message || "bad request");
  }
  if (isStorageFailure(err)) {
    return new ApiError("storage_unavailable", "storage is temporarily unavailable", {}, { "retry-after": "1" });
  }
  return new ApiError("internal_error");
}

export function onError(err: unknown, _c: Context): Response {
  const apiErr = toApiError(err);
  if (apiErr.status >= 500 && !(err instanceof ApiError)) console.error("unhandled error", err);
  return errorResponse(apiErr);
}

export const onNotFound = () => errorResponse(new ApiError("not_found", "no such route"));
