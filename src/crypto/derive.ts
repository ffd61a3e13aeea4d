/**
 * Keys derived from the Worker secret KEY_ENCRYPTION_SECRET by HKDF-SHA256 (salt "passkey-edge", info = purpose),
 * one per purpose and algorithm, cached per isolate. Every server-side key of the service comes from here.
 */
import { ApiError } from "../errors";
import { utf8 } from "./bytes";

export const MIN_SECRET_LENGTH = 16;

/** The secret, or 503 not_configured: nothing that needs a server key works without it. */
export function serverSecret(env: { KEY_ENCRYPTION_SECRET?: string }): string {
  const s = env.KEY_ENCRYPTION_SECRET;
  if (!s || s.length < MIN_SECRET_LENGTH) {
    throw new ApiError(
      "not_configured",
      `KEY_ENCRYPTION_SECRET is not set (at least ${MIN_SECRET_LENGTH} characters)`,
      {},
      { "retry-after": "60" },
    );
  }
  return s;
}

const cache = new Map<string, Promise<CryptoKey>>();

type DerivedAlgorithm = { name: "AES-GCM"; length: 256 } | { name: "HMAC"; hash: "SHA-256"; length: 256 };

function derive(secret: string, purpose: string, algorithm: DerivedAlgorithm, usages: string[]): Promise<CryptoKey> {
  const cacheKey = `${algorithm.name}\u0000${purpose}\u0000${secret}`;
  let key = cache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey("raw", utf8.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8.encode("passkey-edge"), info: utf8.encode(purpose) },
        ikm,
        algorithm,
        false,
        usages,
      );
    })();
    key.catch(() => cache.delete(cacheKey));
    cache.set(cacheKey, key);
  }
  return key;
}

/** AES-256-GCM key for sealing data at rest. */
export const aesKey = (secret: string, purpose: string) =>
  derive(secret, purpose, { name: "AES-GCM", length: 256 }, ["encrypt", "decrypt"]);

/** HMAC-SHA256 key (e.g. one-time code hashes, fake credential ids). */
export const hmacKey = (env: { KEY_ENCRYPTION_SECRET?: string }, purpose: string) =>
  derive(serverSecret(env), purpose, { name: "HMAC", hash: "SHA-256", length: 256 }, ["sign"]);

export async function hmac(key: CryptoKey, message: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(message)));
}
