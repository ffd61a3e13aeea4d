// Software WebAuthn authenticator + client for tests: real P-256 keys (WebCrypto),
// real CBOR, real ECDSA signatures. Produces the JSON shapes a browser would send.
import type {
  AuthenticationResponseJSON,
  AuthenticatorTransport,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
  RegistrationResponseJSON,
} from "@simplewebauthn/server";
import { cborEncode, type CborValue } from "./cbor";

export { cborEncode } from "./cbor";
export type { CborValue } from "./cbor";

export type Flags = { up?: boolean; uv?: boolean; be?: boolean; bs?: boolean };

export interface SoftCredential {
  id: Uint8Array;
  idB64: string;
  rpId: string;
  userHandle: Uint8Array | null; // set when discoverable (from options.user.id)
  discoverable: boolean;
  keyPair: CryptoKeyPair; // ECDSA P-256
  signCount: number;
  be: boolean; // backup eligibility used at registration (default for assertions)
  bs: boolean; // backup state used at registration (default for assertions)
}

export interface RegisterOpts {
  origin: string;
  rpId?: string;
  type?: string;
  challenge?: string;
  crossOrigin?: boolean;
  flags?: Flags;
  attestation?: "none" | "packed";
  /** Packed self attestation: the attStmt alg (default -7, the key's real algorithm). */
  attStmtAlg?: number;
  /** Replaces the attestation statement (and format) wholesale, for rejection tests. */
  attStmt?: CborValue;
  fmt?: string;
  alg?: number;
  discoverable?: boolean;
  credProps?: boolean;
  credentialId?: Uint8Array;
  signCount?: number;
  transports?: string[];
  authenticatorAttachment?: "platform" | "cross-platform";
  store?: boolean;
}

export interface AuthenticateOpts {
  origin: string;
  credential?: SoftCredential;
  rpId?: string;
  type?: string;
  challenge?: string;
  crossOrigin?: boolean;
  flags?: Flags;
  signCount?: number;
  keepZeroCounter?: boolean;
  userHandle?: Uint8Array | null;
  tamperSignature?: boolean;
}

// ---------- byte helpers ----------

export function b64url(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64url(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

async function sha256(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
}

function u32be(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}

function aaguidBytes(uuid: string): Uint8Array {
  const hex = uuid.replace(/-/g, "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`invalid aaguid: ${uuid}`);
  return new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));
}

/** Convert WebCrypto raw ECDSA signature (r||s) to ASN.1 DER SEQUENCE { INTEGER r, INTEGER s }. */
export function rawToDer(raw: Uint8Array): Uint8Array<ArrayBuffer> {
  const half = raw.length / 2;
  const int = (v: Uint8Array): number[] => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++; // minimal encoding: strip leading zeros
    const body = [...v.subarray(i)];
    if ((body[0] ?? 0) & 0x80) body.unshift(0); // keep it positive
    return [0x02, body.length, ...body];
  };
  const seq = [...int(raw.subarray(0, half)), ...int(raw.subarray(half))];
  return new Uint8Array([0x30, seq.length, ...seq]); // P-256: always < 128 bytes
}

async function signDer(key: CryptoKey, data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  const raw = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new Uint8Array(data));
  return rawToDer(new Uint8Array(raw));
}

function flagsByte(f: Required<Flags>, at: boolean): number {
  return (f.up ? 0x01 : 0) | (f.uv ? 0x04 : 0) | (f.be ? 0x08 : 0) | (f.bs ? 0x10 : 0) | (at ? 0x40 : 0);
}

function clientData(type: string, challenge: string, origin: string, crossOrigin?: boolean): Uint8Array {
  const cd: Record<string, unknown> = { type, challenge, origin };
  if (crossOrigin !== undefined) cd.crossOrigin = crossOrigin;
  return new TextEncoder().encode(JSON.stringify(cd));
}

/** COSE_Key (EC2, P-256) with a configurable alg label. */
async function coseKey(pub: CryptoKey, alg: number): Promise<Uint8Array> {
  const jwk = (await crypto.subtle.exportKey("jwk", pub)) as JsonWebKey;
  return cborEncode(
    new Map<number, number | Uint8Array>([
      [1, 2], // kty: EC2
      [3, alg], // alg
      [-1, 1], // crv: P-256
      [-2, fromB64url(jwk.x as string)],
      [-3, fromB64url(jwk.y as string)],
    ]),
  );
}

// ---------- authenticator ----------

export class SoftAuthenticator {
  readonly aaguid: Uint8Array;
  credentials: SoftCredential[] = [];

  constructor(opts?: { aaguid?: string }) {
    this.aaguid = aaguidBytes(opts?.aaguid ?? "00000000-0000-0000-0000-000000000000");
  }

  async register(options: PublicKeyCredentialCreationOptionsJSON, o: RegisterOpts): Promise<RegistrationResponseJSON> {
    const rpId = options.rp.id ?? new URL(o.origin).hostname;
    const sel = options.authenticatorSelection;
    const discoverable = o.discoverable ?? (sel?.residentKey === "required" || sel?.requireResidentKey === true);
    const f = o.flags ?? {};
    const flags: Required<Flags> = { up: f.up ?? true, uv: f.uv ?? true, be: f.be ?? false, bs: f.bs ?? false };
    const alg = o.alg ?? -7;
    const signCount = o.signCount ?? 0;

    const keyPair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const id = o.credentialId ?? crypto.getRandomValues(new Uint8Array(32));
    if (id.length > 0xffff) throw new Error("credential id too long for authData (max 65535)");

    const attestedCredData = concat(
      this.aaguid,
      new Uint8Array([id.length >> 8, id.length & 0xff]),
      id,
      await coseKey(keyPair.publicKey, alg),
    );
    const authData = concat(
      await sha256(new TextEncoder().encode(o.rpId ?? rpId)),
      new Uint8Array([flagsByte(flags, true)]),
      u32be(signCount),
      attestedCredData,
    );
    const cdj = clientData(o.type ?? "webauthn.create", o.challenge ?? options.challenge, o.origin, o.crossOrigin);

    const fmt = o.fmt ?? o.attestation ?? "none";
    const attStmt: CborValue =
      o.attStmt ??
      (fmt === "packed"
        ? { alg: o.attStmtAlg ?? -7, sig: await signDer(keyPair.privateKey, concat(authData, await sha256(cdj))) } // self attestation
        : {});
    const attestationObject = cborEncode({ fmt, attStmt, authData });

    const cred: SoftCredential = {
      id,
      idB64: b64url(id),
      rpId,
      userHandle: discoverable ? fromB64url(options.user.id) : null,
      discoverable,
      keyPair,
      signCount,
      be: flags.be,
      bs: flags.bs,
    };
    if (o.store ?? true) {
      // re-registering an existing id replaces the stored credential
      const i = this.credentials.findIndex((c) => c.idB64 === cred.idB64);
      if (i >= 0) this.credentials[i] = cred;
      else this.credentials.push(cred);
    }

    const credProps = o.credProps ?? options.extensions?.credProps === true;
    return {
      id: cred.idB64,
      rawId: cred.idB64,
      type: "public-key",
      response: {
        clientDataJSON: b64url(cdj),
        attestationObject: b64url(attestationObject),
        transports: (o.transports ?? ["internal"]) as AuthenticatorTransport[],
        publicKeyAlgorithm: alg,
        publicKey: b64url(new Uint8Array((await crypto.subtle.exportKey("spki", keyPair.publicKey)) as ArrayBuffer)),
        authenticatorData: b64url(authData),
      },
      clientExtensionResults: credProps ? { credProps: { rk: discoverable } } : {},
      authenticatorAttachment: o.authenticatorAttachment ?? "platform",
    };
  }

  async authenticate(options: PublicKeyCredentialRequestOptionsJSON, o: AuthenticateOpts): Promise<AuthenticationResponseJSON> {
    const rpId = options.rpId ?? new URL(o.origin).hostname;
    const allow = options.allowCredentials ?? [];
    const cred =
      o.credential ??
      (allow.length > 0
        ? this.credentials.find((c) => c.rpId === rpId && allow.some((a) => a.id === c.idB64))
        : this.credentials.find((c) => c.rpId === rpId && c.discoverable));
    if (!cred) throw new Error(`SoftAuthenticator: no matching credential for rpId ${rpId}`);

    const f = o.flags ?? {};
    const flags: Required<Flags> = { up: f.up ?? true, uv: f.uv ?? true, be: f.be ?? cred.be, bs: f.bs ?? cred.bs };
    // explicit counter is used as-is (not stored); otherwise increment and store
    let signCount = o.signCount;
    if (signCount === undefined) {
      signCount = o.keepZeroCounter && cred.signCount === 0 ? 0 : cred.signCount + 1;
      cred.signCount = signCount;
    }

    const authData = concat(
      await sha256(new TextEncoder().encode(o.rpId ?? rpId)),
      new Uint8Array([flagsByte(flags, false)]),
      u32be(signCount),
    );
    const cdj = clientData(o.type ?? "webauthn.get", o.challenge ?? options.challenge, o.origin, o.crossOrigin);
    const signature = await signDer(cred.keyPair.privateKey, concat(authData, await sha256(cdj)));
    if (o.tamperSignature) signature[signature.length - 1]! ^= 0x01; // flip a bit inside s; DER stays well-formed

    const userHandle = o.userHandle !== undefined ? o.userHandle : cred.discoverable ? cred.userHandle : null;
    return {
      id: cred.idB64,
      rawId: cred.idB64,
      type: "public-key",
      response: {
        clientDataJSON: b64url(cdj),
        authenticatorData: b64url(authData),
        signature: b64url(signature),
        ...(userHandle ? { userHandle: b64url(userHandle) } : {}),
      },
      clientExtensionResults: {},
      authenticatorAttachment: "platform",
    };
  }
}
