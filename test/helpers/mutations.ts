/** Helpers of the ceremony mutation suites (test/mutations-registration.test.ts, test/mutations-assertion.test.ts). */
import { afterAll, beforeAll } from "vitest";
import { b64url, fromB64url } from "../authenticator";
import { quietRequestLog } from "./fuzz";

/**
 * The mutant counts of one suite file, printed after it: "mutations (<suite>): N mutants tried, R rejected,
 * A accepted (seed S)". Also quiets the per-request log for the file.
 */
export function countMutants(suite: string, seed: number) {
  const counts = { tried: 0, rejected: 0 };
  beforeAll(() => quietRequestLog());
  afterAll(() => {
    console.log(
      `mutations (${suite}): ${counts.tried} mutants tried, ${counts.rejected} rejected, ${counts.tried - counts.rejected} accepted (seed ${seed})`,
    );
  });
  return counts;
}

// ---------- bytes ----------

const utf8 = new TextEncoder();
export const flip = (bytes: Uint8Array, i: number, mask = 0x01) => {
  const out = new Uint8Array(bytes);
  out[i]! ^= mask;
  return out;
};

/** A mutant that does not apply to this ceremony (a byte position past the end of a shorter signature). */
export const SKIP = Symbol("skip");
/** Flips byte i when the field has one, else SKIP (DER signatures are 70 to 72 bytes long). */
export const flipOrSkip = (bytes: Uint8Array, i: number, f: (b: Uint8Array) => unknown) => (i < bytes.length ? f(flip(bytes, i)) : SKIP);

const decodeClientData = (b64: string) => JSON.parse(new TextDecoder().decode(fromB64url(b64))) as Record<string, unknown>;
/** clientDataJSON with members changed (undefined removes one). */
export const clientData = (b64: string, patch: Record<string, unknown>) => {
  const cd = { ...decodeClientData(b64), ...patch };
  for (const [k, v] of Object.entries(patch)) if (v === undefined) delete cd[k];
  return b64url(utf8.encode(JSON.stringify(cd)));
};

export const otherChallenge = () => b64url(crypto.getRandomValues(new Uint8Array(32)));
const changedChar = (s: string) => (s[0] === "A" ? "B" : "A") + s.slice(1);

/** clientData mutants that change what the server checks (type, challenge, origin, crossOrigin). */
export function clientDataMutants(type: string): [string, (cd: string, challenge: string) => string][] {
  return [
    ...["webauthn.get", "webauthn.create", "payment.get", "", `${type} `, type.toUpperCase()]
      .filter((t) => t !== type)
      .map((t): [string, (cd: string) => string] => [`type ${JSON.stringify(t)}`, (cd) => clientData(cd, { type: t })]),
    ["type removed", (cd) => clientData(cd, { type: undefined })],
    ["type as number", (cd) => clientData(cd, { type: 1 })],
    ["challenge of nobody", (cd) => clientData(cd, { challenge: otherChallenge() })],
    ["challenge with one character changed", (cd, c) => clientData(cd, { challenge: changedChar(c) })],
    ["challenge with padding", (cd, c) => clientData(cd, { challenge: `${c}=` })],
    ["challenge truncated", (cd, c) => clientData(cd, { challenge: c.slice(1) })],
    ["challenge extended", (cd, c) => clientData(cd, { challenge: `${c}A` })],
    [
      "challenge in standard base64",
      (cd, c) => clientData(cd, { challenge: c.replace(/-/g, "+").replace(/_/g, "/") + (/[-_]/.test(c) ? "" : "+") }),
    ],
    ["challenge empty", (cd) => clientData(cd, { challenge: "" })],
    ["challenge removed", (cd) => clientData(cd, { challenge: undefined })],
    ...[
      "http://localhost:8788",
      "https://localhost:8787",
      "http://localhost:8787/",
      "http://LOCALHOST:8787",
      "http://localhost",
      "http://evil.example",
      "http://localhost:8787.evil.example",
      "http://sub.localhost:8787",
      "null",
      "",
      " http://localhost:8787",
    ].map((o): [string, (cd: string) => string] => [`origin ${JSON.stringify(o)}`, (cd) => clientData(cd, { origin: o })]),
    ["origin removed", (cd) => clientData(cd, { origin: undefined })],
    ["crossOrigin true", (cd) => clientData(cd, { crossOrigin: true })],
    ["crossOrigin true with topOrigin", (cd) => clientData(cd, { crossOrigin: true, topOrigin: "http://evil.example" })],
    ["crossOrigin as a string", (cd) => clientData(cd, { crossOrigin: "false" })],
  ];
}

export const FLAG = { UP: 0x01, RFU1: 0x02, UV: 0x04, BE: 0x08, BS: 0x10, RFU2: 0x20, AT: 0x40, ED: 0x80 };
