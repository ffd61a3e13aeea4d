// Minimal CBOR encoder (RFC 8949) covering what WebAuthn needs:
// unsigned/negative ints, byte strings, text strings, arrays and maps.
// Use a JS Map for integer-keyed maps (e.g. COSE keys); plain objects give text keys.

export type CborValue = number | string | Uint8Array | CborValue[] | Map<number | string, CborValue> | { [key: string]: CborValue };

function head(major: number, n: number): number[] {
  const m = major << 5;
  if (n < 24) return [m | n];
  if (n < 0x100) return [m | 24, n];
  if (n < 0x10000) return [m | 25, n >> 8, n & 0xff];
  if (n < 0x100000000) return [m | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  throw new Error("cbor: length/int too large");
}

function enc(v: CborValue, out: number[]): void {
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw new Error("cbor: only integers supported");
    if (v >= 0) out.push(...head(0, v));
    else out.push(...head(1, -1 - v));
  } else if (typeof v === "string") {
    const b = new TextEncoder().encode(v);
    out.push(...head(3, b.length));
    for (const x of b) out.push(x);
  } else if (v instanceof Uint8Array) {
    out.push(...head(2, v.length));
    for (const x of v) out.push(x);
  } else if (Array.isArray(v)) {
    out.push(...head(4, v.length));
    for (const x of v) enc(x, out);
  } else {
    const entries: [number | string, CborValue][] = v instanceof Map ? [...v.entries()] : Object.entries(v);
    out.push(...head(5, entries.length));
    for (const [k, x] of entries) {
      enc(k, out);
      enc(x, out);
    }
  }
}

export function cborEncode(v: CborValue): Uint8Array<ArrayBuffer> {
  const out: number[] = [];
  enc(v, out);
  return new Uint8Array(out);
}
