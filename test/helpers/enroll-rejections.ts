/** Helpers of the enrollment rejection suites (test/enroll-rejections-*.test.ts). */
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { b64url, SoftAuthenticator, type RegisterOpts } from "../authenticator";
import { expectError, json, ORIGIN, sys, type ErrorBody } from "./api";
import { begin, complete, expectUnchanged, snapshot, type CredentialJson, type Mode } from "./passkeys";

export const APP = "https://app.example.com";
export const EXAMPLE_POOL = { passkey_settings: { relying_party_id: "example.com", relying_party_origins: [APP] } };

const reason = (body: ErrorBody) => String(body.details.reason ?? "");
export const randomB64 = (n: number) => b64url(crypto.getRandomValues(new Uint8Array(n)));

/** begin + one authenticator answer (not completed). */
export async function answer(pool: string, userId: string, mode: Mode, opts: Partial<RegisterOpts> = {}, tid = "default") {
  const options = await begin(pool, userId, mode, tid);
  const response = await new SoftAuthenticator().register(options, { origin: ORIGIN, ...opts });
  return { options, response };
}

/** Completes and asserts 400 registration_failed with a reason matching `why`; the user's rows are untouched. */
export async function expectRegistrationFailed(pool: string, userId: string, mode: Mode, response: unknown, why: RegExp, tid = "default") {
  const before = await snapshot(userId);
  const body = await expectError(await complete(pool, userId, mode, response, tid), 400, "registration_failed");
  expect(reason(body)).toMatch(why);
  await expectUnchanged(userId, before);
  return body;
}

export const kvKey = (challenge: string) => `challenge:${challenge}`;
export async function editChallenge(challenge: string, edit: (rec: Record<string, unknown>) => void) {
  const rec = await env.CHALLENGES.get<Record<string, unknown>>(kvKey(challenge), "json");
  expect(rec, "the challenge record exists in KV").not.toBeNull();
  edit(rec!);
  await env.CHALLENGES.put(kvKey(challenge), JSON.stringify(rec));
}

export const passkeysOf = async (pool: string, userId: string, tid = "default") =>
  (await json<{ credentials: CredentialJson[] }>(await sys("GET", `/pools/${pool}/users/${userId}`, { tid }))).credentials.filter(
    (c) => c.type === "webauthn",
  );
