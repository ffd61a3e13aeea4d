/** Small byte helpers shared by tokens, passwords and ceremonies. base64url is jose's (RFC 4648 §5, unpadded). */
import { base64url } from "jose";

export const utf8 = new TextEncoder();

export function b64url(bytes: ArrayBuffer | Uint8Array): string {
  return base64url.encode(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));
}

/**
 * Decodes base64url without padding; returns null for anything that is not strict base64url (other characters,
 * padding, whitespace, or a length that leaves a lone character), never throws: callers answer a 4xx on null.
 * The alphabet check is ours because the decoders under jose (Uint8Array.fromBase64, atob) skip whitespace.
 */
export function fromB64url(s: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
  try {
    return new Uint8Array(base64url.decode(s));
  } catch {
    return null;
  }
}

export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A random opaque id (128 bits, base64url): used for users, credential entries, audit events. */
export const newId = () => b64url(randomBytes(16));

/** A fresh opaque secret (client secrets, codes, refresh tokens, session cookies): 256 random bits, base64url; stored only as its secretHash. */
export const newOpaqueSecret = (): string => b64url(randomBytes(32));

export async function sha256(data: string | Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", typeof data === "string" ? utf8.encode(data) : data));
}

/**
 * The stored form of a random, high-entropy secret or token (client secrets, authorization codes, refresh tokens,
 * session cookies): base64url SHA-256. Random secrets need no KDF; passwords use crypto/password.ts.
 */
export const secretHash = async (secret: string): Promise<string> => b64url(await sha256(secret));

/** Constant-time equality of two strings (by their SHA-256, so lengths do not leak either). */
export async function timingSafeEqualStr(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([sha256(a), sha256(b)]);
  return crypto.subtle.timingSafeEqual(ha, hb) && a.length === b.length;
}
