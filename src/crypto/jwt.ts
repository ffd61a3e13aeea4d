/** JWTs signed with the tenant's keys (jose): access tokens (ES256) and, by algorithm, ID tokens (RS256 or ES256). */
import { decodeJwt, decodeProtectedHeader, jwtVerify, SignJWT, type JWTPayload } from "jose";
import { newId } from "./bytes";
import { type KeyStore, type SigningAlg, signingKey, verificationKey } from "./keys";

export const issuerFor = (base: string, tenantId: string) => `${base.replace(/\/+$/, "")}/${tenantId}`;

export interface AccessClaims extends JWTPayload {
  sub: string;
  tid: string;
  scope: string;
  wid?: string;
  pool_id?: string;
  auth_time?: number;
  amr?: string[];
  client_id?: string;
}

export interface SignOptions {
  issuer: string;
  ttlSeconds: number;
  /** The `typ` header, e.g. `at+jwt` (RFC 9068) or `JWT` for ID tokens. */
  typ: string;
  now: number;
}

/**
 * Signs `claims` with the tenant's key for `alg` (kid in the header), adding `iss`, `iat`, `exp` and a random `jti`
 * unless the claims carry one.
 */
export async function signJwt(keys: KeyStore, tenantId: string, alg: SigningAlg, claims: JWTPayload, o: SignOptions): Promise<string> {
  const { kid, key } = await signingKey(keys, tenantId, o.now, alg);
  const iat = Math.floor(o.now / 1000);
  return new SignJWT(claims)
    .setProtectedHeader({ alg, kid, typ: o.typ })
    .setIssuer(o.issuer)
    .setIssuedAt(iat)
    .setExpirationTime(iat + o.ttlSeconds)
    .setJti(typeof claims.jti === "string" ? claims.jti : newId())
    .sign(key);
}

/** An access token: ES256, `typ: at+jwt`. */
export async function signAccessToken(
  keys: KeyStore,
  issuer: string,
  claims: Omit<AccessClaims, "iss" | "iat" | "exp" | "jti" | "tid"> & { tid: string },
  ttlSeconds: number,
  now: number,
): Promise<string> {
  return signJwt(keys, claims.tid, "ES256", claims, { issuer, ttlSeconds, typ: "at+jwt", now });
}

/**
 * Verifies a token against the keys of the tenant it names. Returns null for anything that is not a valid,
 * unexpired token of that tenant's issuer; the caller compares the tenant with the one in the path.
 */
export async function verifyAccessToken(d1: D1Database, issuerBase: string, token: string, now: number): Promise<AccessClaims | null> {
  let kid: unknown, tid: unknown;
  try {
    const header = decodeProtectedHeader(token);
    if (header.alg !== "ES256") return null;
    kid = header.kid;
    tid = decodeJwt(token).tid;
  } catch {
    return null;
  }
  if (typeof kid !== "string" || typeof tid !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(tid)) return null;
  // Storage errors propagate (503); only token faults become null (401).
  const key = await verificationKey(d1, tid, kid, now);
  if (!key) return null;
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      issuer: issuerFor(issuerBase, tid),
      currentDate: new Date(now),
      requiredClaims: ["exp", "iat", "sub"],
    });
    if (typeof payload.scope !== "string" || payload.tid !== tid) return null;
    return payload as AccessClaims;
  } catch {
    return null;
  }
}
