/** The one error handler: every error leaves the service in the contract's shape, with Cache-Control: no-store. */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError } from "../errors";
import { isStorageFailure } from "../repo/errors";

export function errorResponse(err: ApiError): Response {
  const body = { status_code: err.status, error: err.message, error_code: err.code, details: err.details };
  return new Response(JSON.stringify(body), {
    status: err.status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "cache-control": "no-store",
      "x-content-type-options": "nosniff",
      ...err.headers,
    },
  });
}

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
