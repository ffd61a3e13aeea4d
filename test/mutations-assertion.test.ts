/**
 * Mutation fuzzing of ceremonies, assertion (sign-in): single mutations of a VALID assertion made by the software
 * authenticator, each of which must be rejected with 401 authentication_failed, no token, and the credential's row
 * (sign count, flags, last use) and consumed_challenges unchanged. How the suites work and what is not sent:
 * test/mutations-registration.test.ts.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { b64url, concat, fromB64url, SoftAuthenticator, type SoftCredential } from "./authenticator";
import { ORIGIN } from "./helpers/api";
import { digest, dispatch, fuzzSettings } from "./helpers/fuzz";
import { clientDataMutants, countMutants, FLAG, flip, flipOrSkip, otherChallenge, SKIP } from "./helpers/mutations";
import { enroll, newUser } from "./helpers/passkeys";
import { options as signinOptions, type Options } from "./helpers/signin";

const settings = fuzzSettings();
const RANDOM_FLIPS = settings.runs(60);
const counts = countMutants("assertion", settings.seed);

interface AssertBase {
  options: Options;
  assertion: AuthenticationResponseJSON;
}

describe("assertion mutants are rejected (401 authentication_failed, no token, sign count unchanged)", {
  timeout: settings.extended ? 3_600_000 : 120_000,
}, () => {
  // Pool "default" through workspace "default" (Smart mode): the userHandle is required and checked.
  let auth: SoftAuthenticator;
  let cred: SoftCredential;
  let entryId: string;
  let stranger: SoftCredential;
  let strangerHandle: string;

  beforeAll(async () => {
    auth = new SoftAuthenticator();
    const user = await newUser();
    entryId = (await enroll(auth, "default", user.id, "smart")).credentials[0]!.id;
    cred = auth.credentials[0]!;
    const other = new SoftAuthenticator();
    await enroll(other, "default", (await newUser()).id, "smart");
    stranger = other.credentials[0]!;
    strangerHandle = b64url(stranger.userHandle!);
  });

  const rowOf = async () => JSON.stringify(await env.DB.prepare("SELECT * FROM credentials WHERE id = ?").bind(entryId).first());
  const state = async () => `${await rowOf()} ${JSON.stringify(await digest(["consumed_challenges"]))}`;

  const storedCount = async () =>
    (await env.DB.prepare("SELECT sign_count AS n FROM credentials WHERE id = ?").bind(entryId).first<{ n: number }>())!.n;

  async function base(): Promise<AssertBase> {
    const options = await signinOptions("default");
    // The counter one above the stored one, given explicitly (the authenticator then does not store it).
    const assertion = await auth.authenticate(options.publicKey, {
      origin: ORIGIN,
      credential: cred,
      signCount: (await storedCount()) + 1,
    });
    return { options, assertion };
  }
  const finishDirect = (signinId: string, credential: unknown) =>
    dispatch(
      new Request(`${ORIGIN}/default/default/login/webauthn/finish`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ login_id: signinId, credential }),
      }),
    );

  type AMutant = [
    name: string,
    make: (b: AssertBase) => unknown | Promise<unknown>,
    signinId?: (b: AssertBase) => string | Promise<string>,
  ];

  async function run(mutants: AMutant[]): Promise<string[]> {
    const failures: string[] = [];
    let b = await base();
    for (const [name, make, signinId] of mutants) {
      const mutant = await make(b);
      if (mutant === SKIP) continue;
      counts.tried++;
      const before = await state();
      const res = await finishDirect(signinId ? await signinId(b) : b.options.login_id, mutant);
      const text = await res.text();
      const body = JSON.parse(text) as { error_code?: string; access_token?: string };
      const unchanged = (await state()) === before;
      if (res.status === 401 && body.error_code === "authentication_failed" && body.access_token === undefined && unchanged) {
        counts.rejected++;
        continue;
      }
      failures.push(`${name} → ${res.status} ${text.slice(0, 160)}${unchanged ? "" : " (store changed)"}`);
      b = await base();
    }
    const control = await finishDirect(b.options.login_id, b.assertion);
    const controlText = await control.text();
    if (control.status !== 200 || !("access_token" in (JSON.parse(controlText) as object)))
      failures.push(`positive control → ${control.status} ${controlText}`);
    return failures;
  }

  const withResp = (b: AssertBase, patch: Partial<AuthenticationResponseJSON["response"]>): AuthenticationResponseJSON => ({
    ...b.assertion,
    response: { ...b.assertion.response, ...patch },
  });
  const bytesOf = (b: AssertBase, field: "authenticatorData" | "clientDataJSON" | "signature") => fromB64url(b.assertion.response[field]);

  it("authenticatorData: every byte (rpIdHash, flags, counter) and every flag bit", async () => {
    const mutants: AMutant[] = [];
    for (let i = 0; i < 37; i++)
      if (i !== 32)
        mutants.push([
          `authenticatorData byte ${i} ^ 0x01`,
          (b) => withResp(b, { authenticatorData: b64url(flip(bytesOf(b, "authenticatorData"), i)) }),
        ]);
    for (const [name, bit] of Object.entries(FLAG))
      mutants.push([
        `flag ${name} flipped`,
        (b) => withResp(b, { authenticatorData: b64url(flip(bytesOf(b, "authenticatorData"), 32, bit)) }),
      ]);
    mutants.push([
      "authenticatorData with a trailing byte",
      (b) => withResp(b, { authenticatorData: b64url(concat(bytesOf(b, "authenticatorData"), new Uint8Array([0]))) }),
    ]);
    mutants.push([
      "authenticatorData truncated",
      (b) => withResp(b, { authenticatorData: b64url(bytesOf(b, "authenticatorData").subarray(0, 36)) }),
    ]);
    expect(await run(mutants)).toEqual([]);
  });

  it("signature: every byte, truncated, empty-ish, and another credential's", async () => {
    const mutants: AMutant[] = [];
    for (let i = 0; i < 72; i++)
      mutants.push([
        `signature byte ${i} ^ 0x01`,
        (b) => flipOrSkip(bytesOf(b, "signature"), i, (sig) => withResp(b, { signature: b64url(sig) })),
      ]);
    mutants.push(["signature truncated", (b) => withResp(b, { signature: b64url(bytesOf(b, "signature").subarray(0, -1)) })]);
    mutants.push([
      "signature with a trailing byte after the DER SEQUENCE",
      (b) => withResp(b, { signature: b64url(concat(bytesOf(b, "signature"), new Uint8Array([0]))) }),
    ]);
    mutants.push(["signature a single zero byte", (b) => withResp(b, { signature: "AA" })]);
    mutants.push([
      "signature by another credential's key",
      async (b) =>
        withResp(b, {
          signature: (await auth.authenticate(b.options.publicKey, { origin: ORIGIN, credential: stranger })).response.signature,
        }),
    ]);
    mutants.push([
      "signature tampered inside s (DER intact)",
      async (b) =>
        await auth.authenticate(b.options.publicKey, {
          origin: ORIGIN,
          credential: cred,
          signCount: (await storedCount()) + 1,
          tamperSignature: true,
        }),
    ]);
    expect(await run(mutants)).toEqual([]);
  });

  it("clientDataJSON: every byte (unsigned changes) and every checked member (validly signed changes)", async () => {
    const probe = await base();
    const mutants: AMutant[] = [];
    for (let i = 0; i < bytesOf(probe, "clientDataJSON").length; i++)
      mutants.push([
        `clientDataJSON byte ${i} ^ 0x01`,
        (b) => withResp(b, { clientDataJSON: b64url(flip(bytesOf(b, "clientDataJSON"), i)) }),
      ]);
    for (const [name, f] of clientDataMutants("webauthn.get")) {
      mutants.push([
        `clientData ${name} (unsigned)`,
        (b) => withResp(b, { clientDataJSON: f(b.assertion.response.clientDataJSON, b.options.publicKey.challenge) }),
      ]);
    }
    // Validly signed by the credential, with a member the server must refuse.
    const signed = (
      name: string,
      o: Parameters<SoftAuthenticator["authenticate"]>[1] | ((b: AssertBase) => Parameters<SoftAuthenticator["authenticate"]>[1]),
    ): AMutant => [
      `${name} (signed)`,
      async (b) =>
        auth.authenticate(b.options.publicKey, {
          credential: cred,
          signCount: (await storedCount()) + 1,
          ...(typeof o === "function" ? o(b) : o),
        }),
    ];
    mutants.push(
      signed("type webauthn.create", { origin: ORIGIN, type: "webauthn.create" }),
      signed("challenge of nobody", { origin: ORIGIN, challenge: otherChallenge() }),
      signed("origin http://localhost:8788", { origin: "http://localhost:8788" }),
      signed("origin https://localhost:8787", { origin: "https://localhost:8787" }),
      signed("origin http://evil.example", { origin: "http://evil.example" }),
      signed("crossOrigin true", { origin: ORIGIN, crossOrigin: true }),
      signed("rpIdHash of evil.example", { origin: ORIGIN, rpId: "evil.example" }),
      signed("UP off", { origin: ORIGIN, flags: { up: false } }),
      signed("UV off (the pool requires it)", { origin: ORIGIN, flags: { uv: false } }),
      signed("BE on for a device-bound credential", { origin: ORIGIN, flags: { be: true } }),
      signed("BS on without BE", { origin: ORIGIN, flags: { bs: true } }),
    );
    expect(await run(mutants)).toEqual([]);
  });

  it("userHandle, credential id and sign-in transaction", async () => {
    const otherSignin = await signinOptions("default");
    const mutants: AMutant[] = [
      ["userHandle byte 0 ^ 0x01", (b) => withResp(b, { userHandle: b64url(flip(fromB64url(b.assertion.response.userHandle!), 0)) })],
      ["userHandle of another user", (b) => withResp(b, { userHandle: strangerHandle })],
      [
        "userHandle removed (Smart needs it)",
        (b) => {
          const { userHandle: _drop, ...rest } = b.assertion.response;
          return { ...b.assertion, response: rest };
        },
      ],
      ["userHandle empty", (b) => withResp(b, { userHandle: "" })],
      ["userHandle null", (b) => withResp(b, { userHandle: null as unknown as string })],
      ["userHandle truncated", (b) => withResp(b, { userHandle: b64url(fromB64url(b.assertion.response.userHandle!).subarray(1)) })],
      [
        "credential id byte 0 ^ 0x01 (id and rawId)",
        (b) => {
          const id = b64url(flip(fromB64url(b.assertion.rawId), 0));
          return { ...b.assertion, id, rawId: id };
        },
      ],
      ["id differs from rawId", (b) => ({ ...b.assertion, id: stranger.idB64 })],
      [
        "another user's credential id with this signature",
        (b) => ({
          ...b.assertion,
          id: stranger.idB64,
          rawId: stranger.idB64,
          response: { ...b.assertion.response, userHandle: strangerHandle },
        }),
      ],
      ["the assertion sent to another live sign-in transaction", (b) => b.assertion, () => otherSignin.login_id],
      ["the assertion sent with an unknown login_id", (b) => b.assertion, () => otherChallenge().slice(0, 22)],
    ];
    expect(await run(mutants)).toEqual([]);
  });

  it(`random single-byte flips (seeded, ${RANDOM_FLIPS}) of authenticatorData, clientDataJSON, signature and userHandle`, async () => {
    const fields = ["authenticatorData", "clientDataJSON", "signature", "userHandle"] as const;
    const flips = fc.sample(fc.tuple(fc.constantFrom(...fields), fc.nat(), fc.integer({ min: 1, max: 255 })), {
      numRuns: RANDOM_FLIPS,
      seed: settings.seed + 1,
    });
    const mutants = flips.map(
      ([field, pos, mask]): AMutant => [
        `${field} byte ${pos} ^ 0x${mask.toString(16)}`,
        (b) => {
          const bytes = fromB64url(b.assertion.response[field]!);
          const i = pos % bytes.length;
          return withResp(b, { [field]: b64url(flip(bytes, i, mask)) });
        },
      ],
    );
    expect(await run(mutants)).toEqual([]);
  });
});
