/**
 * Per-tenant ES256 signing keys. Made on first use, kept in D1 with the private JWK sealed by a key derived from
 * KEY_ENCRYPTION_SECRET. Decrypted keys are cached per isolate (keys are immutable once written).
 */
import { exportJWK, generateKeyPair, importJWK, type CryptoKey as JoseKey, type JWK } from "jose";
import { newId } from "./bytes";
import { TTL } from "../domain/ttl";
import { serverSecret } from "./derive";
import { seal, unseal } from "./sealed";
import { activeKeys, insertKey, keyById, type SigningKeyRow } from "../repo/keys";

const PURPOSE = "signing-key-v1";
const privateCache = new Map<string, Promise<JoseKey>>();
/** The tenant's current signing key row, re-read from D1 at most once a minute per isolate. */
const activeCache = new Map<string, { row: SigningKeyRow; until: number }>();
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

export async function signingKey(store: KeyStore, tenantId: string, now: number): Promise<{ kid: string; key: JoseKey }> {
  const secret = serverSecret({ KEY_ENCRYPTION_SECRET: store.secret });
  const cached = activeCache.get(tenantId);
  let row = cached && cached.until > now ? cached.row : (await activeKeys(store.db, tenantId))[0];
  if (!row) {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = newId();
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" };
    const sealed = await seal(secret, PURPOSE, JSON.stringify(await exportJWK(privateKey)), `${tenantId}/${kid}`);
    await insertKey(store.db, { kid, tenantId, alg: "ES256", publicJwk, privateJwkEnc: sealed, status: "active", createdAt: now });
    // Two first requests may race and both insert: both keys are published, and everyone signs with the oldest.
    row = (await activeKeys(store.db, tenantId))[0]!;
  }
  activeCache.set(tenantId, { row, until: now + TTL.cache * 1000 });
  const { kid, privateJwkEnc } = row;
  let key = privateCache.get(kid);
  if (!key) {
    key = unseal(secret, PURPOSE, privateJwkEnc, `${tenantId}/${kid}`).then(
      (jwk) => importJWK(JSON.parse(jwk) as JWK, "ES256") as Promise<JoseKey>,
    );
    key.catch(() => privateCache.delete(kid));
    privateCache.set(kid, key);
  }
  return { kid, key: await key };
}

export async function verificationKey(d1: D1Database, tenantId: string, kid: string, now: number): Promise<JoseKey | null> {
  const cacheKey = `${tenantId}/${kid}`;
  const cached = publicCache.get(cacheKey);
  if (cached && cached.until > now) return cached.key;
  const row = await keyById(d1, tenantId, kid);
  if (!row) {
    publicCache.delete(cacheKey);
    return null;
  }
  const key = importJWK(row.publicJwk as JWK, "ES256") as Promise<JoseKey>;
  publicCache.set(cacheKey, { key, until: now + TTL.cache * 1000 });
  return key;
}

export async function jwks(d1: D1Database, tenantId: string): Promise<{ keys: JWK[] }> {
  return { keys: (await activeKeys(d1, tenantId)).map((r) => r.publicJwk as JWK) };
}
