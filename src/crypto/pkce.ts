/** PKCE (RFC 7636) with S256, the one method the service accepts. */
import { b64url, sha256, timingSafeEqualStr } from "./bytes";

/** RFC 7636 §4.1: code_verifier = 43*128unreserved, unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~". */
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;

export const isCodeVerifier = (v: string): boolean => VERIFIER.test(v);

/** BASE64URL(SHA256(ASCII(code_verifier))) (RFC 7636 §4.2); null when the verifier is not a valid code_verifier. */
export async function s256(verifier: string): Promise<string | null> {
  return isCodeVerifier(verifier) ? b64url(await sha256(verifier)) : null;
}

/** Whether the verifier is well formed and its S256 equals the challenge (compared in constant time). */
export async function verifyPkce(verifier: string, challenge: string): Promise<boolean> {
  const computed = await s256(verifier);
  return computed !== null && (await timingSafeEqualStr(computed, challenge));
}
