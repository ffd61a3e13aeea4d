/**
 * Strict encodings, on top of the lenient parsers under @simplewebauthn/server: authenticator data must be exactly the
 * structure of WebAuthn §6.1 (a CBOR byte string whose declared length runs past the end would otherwise decode to
 * the original key), and an ECDSA signature exactly one DER SEQUENCE of two minimal INTEGERs (SEC 1 / RFC 3279), with
 * nothing after it. Pure: each returns the reason for refusal, or null.
 */
import { isoCBOR } from "@simplewebauthn/server/helpers";

const FLAG_AT = 0x40;
const FLAG_ED = 0x80;
/** rpIdHash (32) + flags (1) + signCount (4). */
const HEADER = 37;

/** The CBOR item at the start of `bytes` if it re-encodes to exactly those bytes; its length, else null. */
function canonicalItemLength(bytes: Uint8Array): number | null {
  try {
    const item = isoCBOR.decodeFirst(new Uint8Array(bytes));
    const again = isoCBOR.encode(item as Parameters<typeof isoCBOR.encode>[0]);
    if (again.length > bytes.length) return null;
    for (let i = 0; i < again.length; i++) if (again[i] !== bytes[i]) return null;
    return again.length;
  } catch {
    return null;
  }
}

/**
 * Why authenticator data is malformed, or null. Registration needs attested credential data (AT set: AAGUID, id
 * length, id, COSE key); an assertion must not carry it. Extensions (ED) are one CBOR map; nothing may follow.
 */
export function authDataProblem(authData: Uint8Array, ceremony: "registration" | "assertion"): string | null {
  if (authData.length < HEADER) return "authenticator data is too short";
  const flags = authData[32]!;
  const attested = (flags & FLAG_AT) !== 0;
  if (attested !== (ceremony === "registration"))
    return ceremony === "registration" ? "attested credential data is missing" : "an assertion must not carry attested credential data";
  let offset = HEADER;
  if (attested) {
    if (authData.length < offset + 18) return "attested credential data is truncated";
    const idLength = (authData[offset + 16]! << 8) | authData[offset + 17]!;
    offset += 18 + idLength;
    const key = offset <= authData.length ? canonicalItemLength(authData.subarray(offset)) : null;
    if (key === null) return "the credential public key is not one well-formed CBOR item";
    offset += key;
  }
  if (flags & FLAG_ED) {
    const ext = canonicalItemLength(authData.subarray(offset));
    if (ext === null) return "the extensions are not one well-formed CBOR item";
    offset += ext;
  }
  return offset === authData.length ? null : "authenticator data has trailing bytes";
}

/** COSE algorithms whose signatures are DER-encoded ECDSA. */
export const ECDSA_ALGORITHMS = new Set([-7, -35, -36]);

/** Why an ECDSA signature is not strict DER (SEQUENCE { INTEGER r, INTEGER s }, minimal, positive), or null. */
export function derSignatureProblem(sig: Uint8Array): string | null {
  if (sig.length < 8 || sig[0] !== 0x30 || sig[1]! >= 0x80 || sig[1] !== sig.length - 2) return "signature is not one DER SEQUENCE";
  let offset = 2;
  for (let n = 0; n < 2; n++) {
    if (sig[offset] !== 0x02) return "signature is not two DER INTEGERs";
    const len = sig[offset + 1]!;
    const first = sig[offset + 2];
    if (len === 0 || len > 66 || offset + 2 + len > sig.length || first === undefined) return "signature INTEGER length is invalid";
    if (first & 0x80) return "signature INTEGER is negative";
    if (first === 0 && len > 1 && !(sig[offset + 3]! & 0x80)) return "signature INTEGER is not minimal";
    offset += 2 + len;
  }
  return offset === sig.length ? null : "signature has trailing bytes";
}
