/** Strict encodings (src/webauthn/encoding.ts): DER ECDSA signatures and the authenticator data structure. */
import { describe, expect, it } from "vitest";
import { authDataProblem, derSignatureProblem } from "../src/webauthn/encoding";
import { cborEncode } from "./authenticator";

const int = (...bytes: number[]) => [0x02, bytes.length, ...bytes];
const der = (...parts: number[][]) => new Uint8Array([0x30, parts.flat().length, ...parts.flat()]);
const r = Array.from({ length: 32 }, (_, i) => i + 1);

describe("DER ECDSA signatures", () => {
  it("accepts SEQUENCE { INTEGER r, INTEGER s } with minimal, positive integers", () => {
    expect(derSignatureProblem(der(int(...r), int(...r)))).toBeNull();
    expect(derSignatureProblem(der(int(0x00, 0x80, ...r.slice(1)), int(0x01)))).toBeNull();
  });

  it.each([
    ["a leading zero that is not needed", der(int(0x00, 0x7f, ...r.slice(1)), int(...r))],
    ["a negative integer", der(int(0x80, ...r.slice(1)), int(...r))],
    ["an empty integer", der(int(), int(...r))],
    ["a trailing byte", new Uint8Array([...der(int(...r), int(...r)), 0])],
    [
      "a SEQUENCE length that overruns",
      (() => {
        const d = der(int(...r), int(...r));
        d[1]! += 1;
        return d;
      })(),
    ],
    ["one integer only", der(int(...r))],
    ["a BIT STRING instead of an INTEGER", der([0x03, 2, 0, 1], int(...r))],
  ])("refuses %s", (_name, sig) => {
    expect(derSignatureProblem(sig)).not.toBeNull();
  });
});

describe("authenticator data structure", () => {
  const header = (flags: number) => new Uint8Array([...new Uint8Array(32), flags, 0, 0, 0, 1]);
  const key = cborEncode(
    new Map<number, number | Uint8Array>([
      [1, 2],
      [3, -7],
      [-1, 1],
      [-2, new Uint8Array(32)],
      [-3, new Uint8Array(32)],
    ]),
  );
  const attested = (k: Uint8Array) => new Uint8Array([...header(0x45), ...new Uint8Array(16), 0, 4, 9, 9, 9, 9, ...k]);

  it("accepts an assertion header and attested credential data with one canonical key", () => {
    expect(authDataProblem(header(0x05), "assertion")).toBeNull();
    expect(authDataProblem(attested(key), "registration")).toBeNull();
    expect(authDataProblem(new Uint8Array([...header(0x85), ...cborEncode({ credProtect: 2 })]), "assertion")).toBeNull();
  });

  it("refuses overrunning lengths, trailing bytes, and AT where it does not belong", () => {
    const overrun = attested(key);
    overrun[overrun.length - 33] = 0x21; // y declared 33 bytes where 32 remain
    expect(authDataProblem(overrun, "registration")).not.toBeNull();
    expect(authDataProblem(new Uint8Array([...attested(key), 0]), "registration")).not.toBeNull();
    expect(authDataProblem(new Uint8Array([...header(0x05), 0]), "assertion")).not.toBeNull();
    expect(authDataProblem(attested(key), "assertion")).not.toBeNull();
    expect(authDataProblem(header(0x05), "registration")).not.toBeNull();
    expect(authDataProblem(header(0x85), "assertion")).not.toBeNull();
    expect(authDataProblem(new Uint8Array(36), "assertion")).not.toBeNull();
  });
});
