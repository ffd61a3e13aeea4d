/**
 * The tokens of a workspace's OpenID Provider (../shared/api.md "OpenID Connect"): the ID token, signed with the
 * client's algorithm (RS256 by default, or ES256), and the RFC 9068 access token (ES256, `typ: at+jwt`). Both are
 * issued by the workspace issuer `{base}/{tid}/{wid}`. The access token also carries `tid`, `wid` and `pool_id`, so
 * the self-service API applies its usual checks to it (src/http/bearer.ts), and `aud` names the workspace issuer
 * (the resource it is good for: userinfo and the self-service API).
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify } from "jose";
import { type AccessClaims, issuerFor, signJwt } from "../crypto/jwt";
import { type KeyStore, verificationKey } from "../crypto/keys";
import { TTL } from "../domain/ttl";
import type { Acr, IdTokenAlg } from "../domain/vocabulary";

const ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The issuer of workspace `wid` of tenant `tid`. */
export const workspaceIssuer = (base: string, tenantId: string, workspaceId: string) => `${issuerFor(base, tenantId)}/${workspaceId}`;

/** What one issuance knows: who, for which client, with which grant, proven how. */
export interface Grant {
  tenantId: string;
  workspaceId: string;
  clientId: string;
  idTokenAlg: IdTokenAlg;
  poolId: string;
  userId: string;
  /** Space separated. */
  scope: string;
  /** When the user signed in (ms). */
  authTime: number;
  amr: string[];
  acr: Acr | null;
  /** The provider session (`sid`). */
  sessionId: string;
  /** The authorization request's nonce; null on refresh (OIDC Core §12.2) or when none was sent. */
  nonce: string | null;
}

/** RFC 9068 access token of the workspace. */
export function signOidcAccessToken(keys: KeyStore, issuerBase: string, g: Grant, now: number): Promise<string> {
  const issuer = workspaceIssuer(issuerBase, g.tenantId, g.workspaceId);
  const claims = {
    sub: g.userId,
    aud: issuer,
    client_id: g.clientId,
    scope: g.scope,
    auth_time: Math.floor(g.authTime / 1000),
    amr: g.amr,
    ...(g.acr ? { acr: g.acr } : {}),
    tid: g.tenantId,
    wid: g.workspaceId,
    pool_id: g.poolId,
  };
  return signJwt(keys, g.tenantId, "ES256", claims, { issuer, ttlSeconds: TTL.userToken, typ: "at+jwt", now });
}

/** OIDC ID token for the client, signed with its registered algorithm. */
export function signIdToken(keys: KeyStore, issuerBase: string, g: Grant, now: number): Promise<string> {
  const claims = {
    sub: g.userId,
    aud: g.clientId,
    azp: g.clientId,
    auth_time: Math.floor(g.authTime / 1000),
    ...(g.nonce !== null ? { nonce: g.nonce } : {}),
    sid: g.sessionId,
    amr: g.amr,
    ...(g.acr ? { acr: g.acr } : {}),
  };
  const issuer = workspaceIssuer(issuerBase, g.tenantId, g.workspaceId);
  return signJwt(keys, g.tenantId, g.idTokenAlg, claims, { issuer, ttlSeconds: TTL.idToken, typ: "JWT", now });
}

/** The claims of a verified workspace access token. */
export interface OidcAccessClaims extends AccessClaims {
  wid: string;
  pool_id: string;
  client_id: string;
}

/**
 * Verifies an access token issued by a workspace's OpenID Provider (signature with the tenant's key, `typ: at+jwt`,
 * issuer `{base}/{tid}/{wid}`, audience the same issuer, expiry). Null for anything else, including the tenant's own
 * sign-in and system tokens; storage errors propagate (503).
 */
export async function verifyOidcAccessToken(
  d1: D1Database,
  issuerBase: string,
  token: string,
  now: number,
): Promise<OidcAccessClaims | null> {
  let kid: unknown, tid: unknown, wid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== "ES256" || header.typ !== "at+jwt") return null;
    kid = header.kid;
    const payload = decodeJwt(token);
    tid = payload.tid;
    wid = payload.wid;
  } catch {
    return null;
  }
  if (typeof kid !== "string" || typeof tid !== "string" || typeof wid !== "string" || !ID.test(tid) || !ID.test(wid)) return null;
  const key = await verificationKey(d1, tid, kid, now);
  if (!key) return null;
  const issuer = workspaceIssuer(issuerBase, tid, wid);
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      typ: "at+jwt",
      issuer,
      audience: issuer,
      currentDate: new Date(now),
      requiredClaims: ["exp", "iat", "sub", "client_id", "scope", "jti"],
    });
    const ok =
      payload.tid === tid &&
      payload.wid === wid &&
      typeof payload.scope === "string" &&
      typeof payload.client_id === "string" &&
      typeof payload.pool_id === "string";
    return ok ? (payload as OidcAccessClaims) : null;
  } catch {
    return null;
  }
}
