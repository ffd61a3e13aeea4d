/** Encryption at rest: AES-256-GCM with a key derived by HKDF-SHA256 from a Worker secret. */
import { b64url, fromB64url, randomBytes, utf8 } from "./bytes";

const keyCache = new Map<string, Promise<CryptoKey>>();

function deriveKey(secret: string, purpose: string): Promise<CryptoKey> {
  const cacheKey = `${purpose}\u0000${secret}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    key = (async () => {
      const ikm = await crypto.subtle.importKey("raw", utf8.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        { name: "HKDF", hash: "SHA-256", salt: utf8.encode("passkey-edge"), info: utf8.encode(purpose) },
        ikm,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** Returns base64url(iv || ciphertext); `aad` binds the ciphertext to its row (e.g. the key id). */
export async function seal(secret: string, purpose: string, plaintext: string, aad: string): Promise<string> {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(aad) },
    await deriveKey(secret, purpose),
    utf8.encode(plaintext),
  );
  const out = new Uint8Array(12 + ct.byteLength);
  out.set(iv);
  out.set(new Uint8Array(ct), 12);
  return b64url(out);
}

export async function unseal(secret: string, purpose: string, sealed: string, aad: string): Promise<string> {
  const raw = fromB64url(sealed);
  if (!raw || raw.length < 13) throw new Error("sealed value is malformed");
  const pt = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: raw.slice(0, 12), additionalData: utf8.encode(aad) },
    await deriveKey(secret, purpose),
    raw.slice(12),
  );
  return new TextDecoder().decode(pt);
}
