/** Encryption at rest: AES-256-GCM with a key derived by HKDF-SHA256 from a Worker secret. */
import { b64url, fromB64url, randomBytes, utf8 } from "./bytes";
import { aesKey } from "./derive";

/** Returns base64url(iv || ciphertext); `aad` binds the ciphertext to its row (e.g. the key id). */
export async function seal(secret: string, purpose: string, plaintext: string, aad: string): Promise<string> {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: utf8.encode(aad) },
    await aesKey(secret, purpose),
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
    await aesKey(secret, purpose),
    raw.slice(12),
  );
  return new TextDecoder().decode(pt);
}
