/**
 * The one error type of the service and its vocabulary. Everything that answers with an error throws an ApiError
 * (or is mapped to one by the single error handler in src/http/errors.ts), so every error body has the contract's
 * shape: {"status_code", "error", "error_code", "details"}.
 *
 * ERRORS is the registry: every error code of the service once, with its HTTP status and default message. An
 * ApiError takes a key of it, so a code that is not listed here does not compile; the status always comes from
 * the registry. Browser code imports the code union with `import type { ErrorCode }` (type-only: nothing of the
 * server is bundled). This file imports nothing.
 */

export type ApiStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 429 | 500 | 503;

export const ERRORS = {
  // 400: the request is malformed or not allowed as sent
  invalid_request: { status: 400, message: "malformed request" },
  validation_failed: { status: 400, message: "validation failed" },
  invalid_path_parameter: { status: 400, message: "invalid param" },
  method_not_enabled: { status: 400, message: "this sign-in method is not enabled in this workspace" },
  registration_failed: { status: 400, message: "the passkey could not be registered" },
  authenticator_not_allowed: { status: 400, message: "the pool's authenticator policy does not accept this passkey" },
  // 400/401 at the token endpoints (RFC 6749 §5.2); invalid_grant is for the authorization_code and refresh_token grants
  unsupported_grant_type: { status: 400, message: "the grant_type is not supported" },
  invalid_scope: { status: 400, message: "scope not allowed" },
  invalid_grant: { status: 400, message: "the grant is invalid, expired or revoked" },
  invalid_client: { status: 401, message: "client authentication failed" },
  // issue 10 part C (workspace token endpoint): a client using a grant type it is not registered for (RFC 6749 §5.2)
  unauthorized_client: { status: 400, message: "the client may not use this grant type" },
  // 401: who is calling is unknown or not proven
  unauthorized: { status: 401, message: "authentication required" },
  invalid_token: { status: 401, message: "the access token is invalid or expired" },
  insufficient_user_authentication: { status: 401, message: "sign in again: this needs a sign-in within the last 5 minutes" },
  authentication_failed: { status: 401, message: "authentication failed" },
  otp_invalid: { status: 401, message: "the code or passkey could not be verified" },
  // 403: known caller, not allowed
  insufficient_scope: { status: 403, message: "the access token lacks a required scope" },
  second_factor_not_enrolled: { status: 403, message: "the user has no passkey for the second factor" },
  // 404
  not_found: { status: 404, message: "resource not found" },
  // 409: conflicts with the current state
  tenant_exists: { status: 409, message: "a tenant with this id already exists" },
  pool_exists: { status: 409, message: "a pool with this id already exists" },
  workspace_exists: { status: 409, message: "a workspace with this id already exists" },
  reserved_pool: { status: 409, message: "the admins pool holds the tenant's administrators; it cannot be deleted" },
  reserved_workspace: { status: 409, message: "the admin workspace is how administrators sign in; it cannot be deleted" },
  pool_in_use: { status: 409, message: "remove the pool from its workspaces' identity_pools first" },
  identifier_taken: { status: 409, message: "an identifier is already used by another user of this pool" },
  credential_exists: { status: 409, message: "this passkey is already registered" },
  credential_limit_reached: { status: 409, message: "the user has reached the pool's passkey limit" },
  last_credential: { status: 409, message: "this is your last passkey; add another before removing it" },
  passkey_mode_mismatch: { status: 409, message: "the passkey mode does not match the workspace's" },
  // 409 of the OIDC clients API (issue 10, part A)
  client_exists: { status: 409, message: "a client with this id already exists in the tenant" },
  public_client: { status: 409, message: "a public client (token_endpoint_auth_method none) has no secret to rotate" },
  // 413, 415
  payload_too_large: { status: 413, message: "request body is larger than 64 KiB" },
  unsupported_media_type: { status: 415, message: "unsupported request body type" },
  // 422: a semantically invalid configuration (details.field names the field)
  invalid_configuration: { status: 422, message: "invalid configuration" },
  unknown_identity_pool: { status: 422, message: "unknown identity pool" },
  passkey_mode_conflict: {
    status: 422,
    message: "a workspace uses one passkey mode: webauthn (Classic) or usernameless_webauthn (Smart), not both",
  },
  // 429
  rate_limited: { status: 429, message: "too many requests; try again later" },
  // 5xx
  internal_error: { status: 500, message: "internal error" },
  not_configured: { status: 503, message: "the service is not configured" },
  storage_unavailable: { status: 503, message: "storage is temporarily unavailable" },
} as const satisfies Record<string, { status: ApiStatus; message: string }>;

/** Every error_code the service answers with. */
export type ErrorCode = keyof typeof ERRORS;

/** The codes whose status is S, e.g. CodeWithStatus<422> for configuration errors. */
export type CodeWithStatus<S extends ApiStatus> = { [K in ErrorCode]: (typeof ERRORS)[K]["status"] extends S ? K : never }[ErrorCode];

export class ApiError extends Error {
  readonly status: ApiStatus;

  /** The status comes from the registry; the message defaults to the registry's. */
  constructor(
    readonly code: ErrorCode,
    message?: string,
    readonly details: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message ?? ERRORS[code].message);
    this.name = "ApiError";
    this.status = ERRORS[code].status;
  }
}

export const notFound = (what = "resource") => new ApiError("not_found", `${what} not found`);

/** 422 for a semantically invalid configuration, naming the field. */
export const invalidConfig = (field: string, message: string, code: CodeWithStatus<422> = "invalid_configuration") =>
  new ApiError(code, message, { field });

export type FieldIssue = { field: string; message: string };

/**
 * 400 for input that fails validation, in one shape: details {location, fields}. location is where the input was
 * ("json", "query", "form", "param"...); a bad path parameter is invalid_path_parameter, anything else
 * validation_failed. The message defaults to "invalid <location>: <field names>".
 */
export function validationFailed(location: string, fields: FieldIssue[], message?: string): ApiError {
  const code = location === "param" ? "invalid_path_parameter" : "validation_failed";
  const names = [...new Set(fields.map((f) => f.field))].join(", ");
  return new ApiError(code, message ?? `invalid ${location}: ${names}`, { location, fields });
}
