/**
 * Per-tenant signing keys: one ES256 key (access tokens; ID tokens on request) and one RS256 key (RSA 2048; ID tokens
 * by default, RS256 being mandatory to implement in OIDC). Made on first use, both together, and kept in D1 with the
 * private JWK sealed by a key derived from KEY_ENCRYPTION_SECRET. A tenant that has only some of them (one made
 * before RS256 existed) gets the missing one on its next signature. Decrypted keys are cached per isolate (keys are
 * immutable once written).
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey as JoseKey, type JWK } from "jose";
import { newId } from "./bytes";
import { TTL } from "../domain/ttl";
import { ID_TOKEN_ALGS, type IdTokenAlg } from "../domain/vocabulary";
import { serverSecret } from "./derive";
import { seal, unseal } from "./sealed";
import { activeKeys, insertKey, keyById, type SigningKeyRow } from "../repo/keys";

/** The algorithms a tenant signs with, one active key each. */
export type SigningAlg = IdTokenAlg;
const SIGNING_ALGS: readonly SigningAlg[] = ID_TOKEN_ALGS;
const isSigningAlg = (alg: string): alg is SigningAlg => (SIGNING_ALGS as readonly string[]).includes(alg);

const PURPOSE = "signing-key-v1";
const privateCache = new Map<string, Promise<JoseKey>>();
/** The tenant's active signing key rows, re-read from D1 at most once a minute per isolate. */
const activeCache = new Map<string, { rows: SigningKeyRow[]; until: number }>();
/** Public keys by tenant/kid, re-read at most once a minute, so a deleted tenant's keys stop verifying. */
const publicCache = new Map<string, { key: Promise<JoseKey>; until: number }>();

/**
 * What signing needs: the D1 binding that stores the keys and KEY_ENCRYPTION_SECRET, which seals them. The secret is
 * checked on use (503 not_configured when unset or short), so a best-effort caller can catch that like any failure.
 */
export interface KeyStore {
  db: D1Database;
  secret: string | undefined;
}

async function newKeyRow(secret: string, tenantId: string, alg: SigningAlg, now: number): Promise<SigningKeyRow> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...(alg === "RS256" ? { modulusLength: 2048 } : {}) });
  const kid = newId();
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" };
  const sealed = await seal(secret, PURPOSE, JSON.stringify(await exportJWK(privateKey)), `${tenantId}/${kid}`);
  return { kid, tenantId, alg, publicJwk, privateJwkEnc: sealed, status: "active", createdAt: now };
}

/** The tenant's active keys, making the missing ones (one insert each, on a tenant's first use only). */
async function tenantKeys(store: KeyStore, secret: string, tenantId: string, now: number): Promise<SigningKeyRow[]> {
  const cached = activeCache.get(tenantId);
  let rows = cached && cached.until > now ? cached.rows : await activeKeys(store.db, tenantId);
  const missing = SIGNING_ALGS.filter((alg) => !rows.some((r) => r.alg === alg));
  if (missing.length > 0) {
    const made = await Promise.all(missing.map((alg) => newKeyRow(secret, tenantId, alg, now)));
    await Promise.all(made.map((row) => insertKey(store.db, row)));
    // Two first requests may race and both insert: all keys are published, and everyone signs with the oldest per alg.
    rows = await activeKeys(store.db, tenantId);
  }
  activeCache.set(tenantId, { rows, until: now + TTL.cache * 1000 });
  return rows;
}

/**
 * The tenant's signing key for `alg` (default ES256, the access tokens' algorithm): its oldest active key of that
 * algorithm. Makes the tenant's keys on first use.
 */
export async function signingKey(
  store: KeyStore,
  tenantId: string,
  now: number,
  alg: SigningAlg = "ES256",
): Promise<{ kid: string; alg: SigningAlg; key: JoseKey }> {
  const secret = serverSecret({ KEY_ENCRYPTION_SECRET: store.secret });
  const row = (await tenantKeys(store, secret, tenantId, now)).find((r) => r.alg === alg)!;
  const { kid, privateJwkEnc } = row;
  let key = privateCache.get(kid);
  if (!key) {
    key = unseal(secret, PURPOSE, privateJwkEnc, `${tenantId}/${kid}`).then(
      (jwk) => importJWK(JSON.parse(jwk) as JWK, alg) as Promise<JoseKey>,
    );
    key.catch(() => privateCache.delete(kid));
    privateCache.set(kid, key);
  }
  return { kid, alg, key: await key };
}

/** The public key `kid` of the tenant, imported for its own algorithm, or null when the tenant has no such key. */
export async function verificationKey(d1: D1Database, tenantId: string, kid: string, now: number): Promise<JoseKey | null> {
  const cacheKey = `${tenantId}/${kid}`;
  const cached = publicCache.get(cacheKey);
  if (cached && cached.until > now) return cached.key;
  const row = await keyById(d1, tenantId, kid);
  if (!row || !isSigningAlg(row.alg)) {
    publicCache.delete(cacheKey);
    return null;
  }
  const key = importJWK(row.publicJwk as JWK, row.alg) as Promise<JoseKey>;
  publicCache.set(cacheKey, { key, until: now + TTL.cache * 1000 });
  return key;
}

/** The tenant's published keys: every active key (ES256 and RS256), public parts only. */
export async function jwks(d1: D1Database, tenantId: string): Promise<{ keys: JWK[] }> {
  return { keys: (await activeKeys(d1, tenantId)).map((r) => r.publicJwk as JWK) };
}
