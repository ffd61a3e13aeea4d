/** Password hashing: PBKDF2-SHA256 at 100,000 iterations (the Workers maximum) with a per-password salt. */
import { b64url, fromB64url, randomBytes, utf8 } from "./bytes";

const ITERATIONS = 100_000;

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey("raw", utf8.encode(password.normalize("NFC")), "PBKDF2", false, ["deriveBits"]);
  return new Uint8Array(await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256));
}

/** Returns "pbkdf2-sha256$<iterations>$<salt>$<hash>". */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `pbkdf2-sha256$${ITERATIONS}$${b64url(salt)}$${b64url(await derive(password, salt, ITERATIONS))}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, saltB64, hashB64] = stored.split("$");
  const salt = fromB64url(saltB64 ?? "");
  const expected = fromB64url(hashB64 ?? "");
  const iterations = Number(iter);
  if (scheme !== "pbkdf2-sha256" || !salt || !expected || !Number.isInteger(iterations)) return false;
  const actual = await derive(password, salt, iterations);
  return actual.length === expected.length && crypto.subtle.timingSafeEqual(actual, expected);
}

/** A fixed hash to verify against when the user is unknown, so timing does not reveal who exists. */
export const DUMMY_PASSWORD_HASH = "pbkdf2-sha256$100000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
