/**
 * The workspace's OAuth endpoints behind the authorization endpoint (../shared/api.md "OpenID Connect"): the token
 * endpoint (authorization_code with PKCE S256, refresh_token with rotation), revocation (RFC 7009) and userinfo.
 * Storage discipline: a token request is two D1 round trips (the client with its failure counter, then the grant's
 * one batch) and no KV; signing keys come from the per-isolate cache (src/crypto/keys.ts).
 */
import { newId, newOpaqueSecret, secretHash, timingSafeEqualStr } from "../crypto/bytes";
import { s256 } from "../crypto/pkce";
import { CLIENT_AUTH_FAILURES, retryAfterSeconds } from "../domain/limits";
import { parseScope } from "../domain/oidc";
import { TTL } from "../domain/ttl";
import { ApiError } from "../errors";
import { readClientForAuth } from "../repo/oidc-client-auth";
import type { OidcClientRow } from "../repo/oidc-clients";
import { redeemOidcCode } from "../repo/oidc-codes";
import { revokeRefreshFamily, rotateRefreshToken } from "../repo/oidc-refresh-tokens";
import { reserve } from "../repo/counters";
import * as userRepo from "../repo/users";
import type { WorkspaceCall } from "./call";
import { rateLimited } from "./limits";
import { type Grant, type OidcAccessClaims, signIdToken, signOidcAccessToken, verifyOidcAccessToken } from "./oidc-tokens-mint";

/** How the client presented itself: `basic` (Authorization header), `post` (form) or `none` (client_id only). */
export interface ClientAuth {
  clientId: string;
  secret: string | null;
  method: "basic" | "post" | "none";
}

export interface OidcTokenRequest {
  grantType: string | undefined;
  code?: string;
  redirectUri?: string;
  codeVerifier?: string;
  refreshToken?: string;
  scope?: string;
  auth: ClientAuth;
}

export interface OidcTokenResponse {
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
  scope: string;
  id_token: string;
  refresh_token?: string;
}

/** The counter of a workspace client's authentication failures (the system clients' is `client:<id>`). */
const failureKey = (clientId: string) => `oidc_client:${clientId}`;
const METHOD = { client_secret_basic: "basic", client_secret_post: "post", none: "none" } as const;

const invalidClient = (message = "client authentication failed") =>
  new ApiError("invalid_client", message, {}, { "www-authenticate": `Basic realm="passkey-edge"` });
const invalidGrant = (message: string) => new ApiError("invalid_grant", message);

/**
 * Authenticates the client against the workspace's registered clients: its registered method, and for confidential
 * clients the secret (compared as SHA-256, in constant time, also for unknown ids). Refused while the client's
 * failures fill the window (429); a failure is counted, a success writes nothing. One round trip on success.
 */
export async function authenticateOidcClient(call: WorkspaceCall, auth: ClientAuth): Promise<OidcClientRow> {
  const { tenantId, workspaceId, now } = call;
  const counterKey = failureKey(auth.clientId);
  const { client, failures } = await readClientForAuth(call.env.DB, { tenantId, workspaceId, clientId: auth.clientId, counterKey }, now);
  if (failures >= CLIENT_AUTH_FAILURES.defaultLimit) throw rateLimited(CLIENT_AUTH_FAILURES.name, retryAfterSeconds(now + 1000, now));
  const secretOk = await timingSafeEqualStr(await secretHash(auth.secret ?? ""), client?.secretHash ?? "no-secret");
  const ok =
    client !== undefined &&
    METHOD[client.tokenEndpointAuthMethod] === auth.method &&
    (client.tokenEndpointAuthMethod === "none" ? auth.secret === null : auth.secret !== null && secretOk);
  if (ok) return client;
  const audit = {
    tenantId,
    actor: `client:${auth.clientId}`,
    type: "rate_limited" as const,
    details: {
      limit: CLIENT_AUTH_FAILURES.name,
      max: CLIENT_AUTH_FAILURES.defaultLimit,
      window_seconds: CLIENT_AUTH_FAILURES.windowMs / 1000,
    },
  };
  const r = await reserve(
    call.env.DB,
    { tenantId, key: counterKey },
    CLIENT_AUTH_FAILURES.defaultLimit,
    CLIENT_AUTH_FAILURES.windowMs,
    now,
    audit,
  );
  if (!r.ok) throw rateLimited(CLIENT_AUTH_FAILURES.name, retryAfterSeconds(r.expiresAt, now));
  throw invalidClient();
}

async function issue(call: WorkspaceCall, g: Grant, refreshToken: string | null): Promise<OidcTokenResponse> {
  const keys = { db: call.env.DB, secret: call.env.KEY_ENCRYPTION_SECRET };
  const base = call.origin().issuerBase;
  // One after the other: on a tenant's very first signature, the keys are made once.
  const accessToken = await signOidcAccessToken(keys, base, g, call.now);
  const idToken = await signIdToken(keys, base, g, call.now);
  return {
    access_token: accessToken,
    token_type: "Bearer",
    expires_in: TTL.userToken,
    scope: g.scope,
    id_token: idToken,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

const required = (value: string | undefined, field: string): string => {
  if (!value) throw new ApiError("invalid_request", `${field} is required`, { field });
  return value;
};

async function codeGrant(call: WorkspaceCall, client: OidcClientRow, req: OidcTokenRequest): Promise<OidcTokenResponse> {
  const code = required(req.code, "code");
  const redirectUri = required(req.redirectUri, "redirect_uri");
  const verifier = required(req.codeVerifier, "code_verifier");
  const challenge = await s256(verifier);
  if (challenge === null) throw invalidGrant("code_verifier is not a valid PKCE verifier");
  const refresh = client.grantTypes.includes("refresh_token") ? newOpaqueSecret() : null;
  const result = await redeemOidcCode(
    call.env.DB,
    {
      tenantId: call.tenantId,
      workspaceId: call.workspaceId,
      clientId: client.clientId,
      codeHash: await secretHash(code),
      redirectUri,
      codeChallenge: challenge,
      familyId: newId(),
      refreshToken: refresh ? { tokenHash: await secretHash(refresh), expiresAt: call.now + TTL.refreshToken * 1000 } : null,
    },
    call.now,
  );
  if (!result.ok) {
    throw invalidGrant(
      result.reason === "reused"
        ? "the authorization code was already used; the tokens it issued are revoked"
        : "the authorization code is invalid, expired, or was issued for another client, redirect_uri or code_challenge",
    );
  }
  const c = result.code;
  const grant: Grant = { ...c, idTokenAlg: client.idTokenAlg };
  return issue(call, grant, result.refreshTokenIssued ? refresh : null);
}

async function refreshGrant(call: WorkspaceCall, client: OidcClientRow, req: OidcTokenRequest): Promise<OidcTokenResponse> {
  const presented = required(req.refreshToken, "refresh_token");
  if (!client.grantTypes.includes("refresh_token")) {
    throw new ApiError("unauthorized_client", "this client may not use the refresh_token grant", { field: "grant_type" });
  }
  // A scope the client is not even registered for is refused before the token is used up (no storage needed).
  const asked = req.scope === undefined ? null : parseScope(req.scope);
  const unregistered = asked?.filter((s) => !client.scopes.includes(s)) ?? [];
  if (asked !== null && (asked.length === 0 || unregistered.length)) {
    throw new ApiError("invalid_scope", `scope not allowed for this client: ${unregistered.join(" ") || "(empty)"}`);
  }
  const successor = newOpaqueSecret();
  const result = await rotateRefreshToken(
    call.env.DB,
    { tenantId: call.tenantId, workspaceId: call.workspaceId, clientId: client.clientId, tokenHash: await secretHash(presented) },
    { tokenHash: await secretHash(successor), expiresAt: call.now + TTL.refreshToken * 1000 },
    call.now,
  );
  if (!result.ok) {
    throw invalidGrant(
      result.reason === "reused"
        ? "the refresh token was already used; its family is revoked"
        : "the refresh token is invalid, expired or revoked",
    );
  }
  const t = result.token;
  // RFC 6749 §6: a narrower scope may be asked for this access token; the refresh token keeps the original grant.
  // One wider than the grant is known only now, after the rotation (one batch): the client loses that token.
  let scope = t.scope;
  if (asked !== null) {
    const granted = parseScope(t.scope);
    const extra = asked.filter((s) => !granted.includes(s));
    if (extra.length) throw new ApiError("invalid_scope", `scope exceeds the grant: ${extra.join(" ")}`);
    scope = asked.join(" ");
  }
  return issue(call, { ...t, scope, nonce: null, idTokenAlg: client.idTokenAlg }, successor);
}

/** The token endpoint of the call's workspace. */
export async function createOidcTokens(call: WorkspaceCall, req: OidcTokenRequest): Promise<OidcTokenResponse> {
  call.origin(); // 503 not_configured before any storage read
  if (req.grantType !== "authorization_code" && req.grantType !== "refresh_token") {
    throw new ApiError("unsupported_grant_type", "grant_type must be authorization_code or refresh_token", { field: "grant_type" });
  }
  const client = await authenticateOidcClient(call, req.auth);
  return req.grantType === "authorization_code" ? codeGrant(call, client, req) : refreshGrant(call, client, req);
}

/**
 * RFC 7009 revocation: after client authentication, a refresh token of this client revokes its family; anything else
 * (an access token, which expires on its own; an unknown or another client's token) is a no-op. Always succeeds.
 */
export async function revokeOidcToken(call: WorkspaceCall, auth: ClientAuth, token: string): Promise<void> {
  const client = await authenticateOidcClient(call, auth);
  await revokeRefreshFamily(
    call.env.DB,
    { tenantId: call.tenantId, workspaceId: call.workspaceId, clientId: client.clientId, tokenHash: await secretHash(token) },
    call.now,
  );
}

const invalidToken = (message: string) =>
  new ApiError("invalid_token", message, {}, { "www-authenticate": `Bearer realm="passkey-edge", error="invalid_token"` });

export interface UserInfo {
  sub: string;
  preferred_username?: string;
  name?: string;
  email?: string;
  email_verified?: boolean;
}

/** Claims of an access token of the call's workspace with `openid`, or 401 invalid_token. */
export async function verifyUserinfoToken(call: WorkspaceCall, token: string | null): Promise<OidcAccessClaims> {
  if (!token) throw new ApiError("unauthorized", "a bearer token is required", {}, { "www-authenticate": `Bearer realm="passkey-edge"` });
  const claims = await verifyOidcAccessToken(call.env.DB, call.origin().issuerBase, token, call.now);
  if (!claims || claims.tid !== call.tenantId || claims.wid !== call.workspaceId)
    throw invalidToken("the access token is invalid or expired");
  if (!parseScope(claims.scope).includes("openid")) throw invalidToken("the access token lacks the openid scope");
  return claims;
}

/** OIDC UserInfo: `sub`, with `profile` the first identifier and the payload's name, with `email` the first email. */
export async function getUserinfo(call: WorkspaceCall, token: string | null): Promise<UserInfo> {
  const claims = await verifyUserinfoToken(call, token);
  const user = await userRepo.getUser(call.env.DB, call.tenantId, claims.pool_id, claims.sub);
  if (user?.status !== "active") throw invalidToken("the token's user is no longer active");
  const scopes = parseScope(claims.scope);
  const info: UserInfo = { sub: user.id };
  if (scopes.includes("profile")) {
    const first = [...user.identifiers].sort((a, b) => a.position - b.position)[0];
    if (first) info.preferred_username = first.identifier;
    const name = (user.payload as Record<string, unknown> | null)?.name;
    if (typeof name === "string" && name) info.name = name;
  }
  if (scopes.includes("email")) {
    const emails = user.addresses
      .filter((a) => a.type === "email")
      .sort((a, b) => Number(b.verified) - Number(a.verified) || a.position - b.position);
    const email = emails[0];
    if (email) {
      info.email = email.address;
      info.email_verified = email.verified;
    }
  }
  return info;
}
