/**
 * Attestation statement formats (WebAuthn §8), checked structurally on top of @simplewebauthn/server, which verifies
 * signatures and certificate chains but lets through statements §8 forbids: a `none` statement that is not an empty
 * map, a `packed` self attestation whose `alg` is not the credential key's algorithm, unknown or ill-typed fields.
 * Pure: it reads the decoded attestation object and returns the reason for refusal, or null.
 */
import { isoCBOR } from "@simplewebauthn/server/helpers";
import { authDataProblem, derSignatureProblem, ECDSA_ALGORITHMS } from "./encoding";

type Field = "int" | "bytes" | "text" | "certs";

/** Per format: each allowed attStmt field, its type and whether it is required (§8.2–§8.8). */
const FORMATS: Record<string, Record<string, [Field, boolean]>> = {
  none: {},
  packed: { alg: ["int", true], sig: ["bytes", true], x5c: ["certs", false] },
  tpm: {
    ver: ["text", true],
    alg: ["int", true],
    x5c: ["certs", true],
    sig: ["bytes", true],
    certInfo: ["bytes", true],
    pubArea: ["bytes", true],
  },
  "android-key": { alg: ["int", true], sig: ["bytes", true], x5c: ["certs", true] },
  "android-safetynet": { ver: ["text", true], response: ["bytes", true] },
  "fido-u2f": { sig: ["bytes", true], x5c: ["certs", true] },
  apple: { x5c: ["certs", true] },
};

function hasType(value: unknown, type: Field): boolean {
  switch (type) {
    case "int":
      return typeof value === "number" && Number.isSafeInteger(value);
    case "bytes":
      return value instanceof Uint8Array && value.length > 0;
    case "text":
      return typeof value === "string";
    case "certs":
      return Array.isArray(value) && value.length > 0 && value.every((c) => c instanceof Uint8Array && c.length > 0);
  }
}

/**
 * Why the attestation object may not be accepted, or null. `credentialAlg` is the COSE alg of the credential public key
 * in authenticatorData.
 */
export function attestationProblem(attestationObject: Uint8Array, credentialAlg: number): string | null {
  let decoded: unknown;
  try {
    decoded = isoCBOR.decodeFirst(new Uint8Array(attestationObject));
    // One CBOR item, nothing after it: re-encoding keeps lengths (the library's own invariant).
    if (isoCBOR.encode(decoded as Parameters<typeof isoCBOR.encode>[0]).length !== attestationObject.length) {
      return "attestationObject has trailing bytes";
    }
  } catch {
    return "attestationObject is not CBOR";
  }
  if (!(decoded instanceof Map)) return "attestationObject is not a map";
  const keys = [...decoded.keys()];
  if (keys.length !== 3 || !["fmt", "attStmt", "authData"].every((k) => decoded.has(k))) {
    return "attestationObject must hold exactly fmt, attStmt and authData";
  }
  const fmt = decoded.get("fmt");
  const attStmt = decoded.get("attStmt");
  const spec = typeof fmt === "string" ? FORMATS[fmt] : undefined;
  if (!spec) return `unsupported attestation format ${String(fmt)}`;
  if (!(attStmt instanceof Map)) return `the ${fmt} attestation statement is not a map`;
  for (const key of attStmt.keys()) {
    if (typeof key !== "string" || !(key in spec)) return `the ${fmt} attestation statement has an unexpected field ${String(key)}`;
  }
  for (const [field, [type, required]] of Object.entries(spec)) {
    if (!attStmt.has(field)) {
      if (required) return `the ${fmt} attestation statement lacks ${field}`;
      continue;
    }
    if (!hasType(attStmt.get(field), type)) return `the ${fmt} attestation statement's ${field} is malformed`;
  }
  const authData = decoded.get("authData");
  if (!(authData instanceof Uint8Array)) return "authData is not a byte string";
  const structure = authDataProblem(authData, "registration");
  if (structure) return structure;
  // ECDSA attestation signatures are strict DER (fido-u2f is always ES256).
  const sigAlg = fmt === "fido-u2f" ? -7 : attStmt.get("alg");
  if ((fmt === "packed" || fmt === "android-key" || fmt === "fido-u2f") && typeof sigAlg === "number" && ECDSA_ALGORITHMS.has(sigAlg)) {
    const der = derSignatureProblem(attStmt.get("sig") as Uint8Array);
    if (der) return `the ${fmt} attestation ${der}`;
  }
  // §8.2 packed self attestation: alg must be the credential key's algorithm.
  if (fmt === "packed" && !attStmt.has("x5c") && attStmt.get("alg") !== credentialAlg) {
    return "packed self attestation alg differs from the credential key's algorithm";
  }
  // §8.6 fido-u2f: exactly one certificate, and the credential key is an ES256 (P-256) key.
  if (fmt === "fido-u2f" && ((attStmt.get("x5c") as unknown[]).length !== 1 || credentialAlg !== -7)) {
    return "fido-u2f attestation needs one certificate and a P-256 credential key";
  }
  // §8.3 tpm: only version 2.0.
  if (fmt === "tpm" && attStmt.get("ver") !== "2.0") return "tpm attestation version must be 2.0";
  return null;
}
