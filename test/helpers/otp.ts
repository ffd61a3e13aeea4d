/** Helpers of the one-time code suites (test/otp-request.test.ts, test/otp-complete.test.ts, test/otp-delivery.test.ts). */
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { expect } from "vitest";
import { app } from "../../src/app";
import { SoftAuthenticator } from "../authenticator";
import { basic, CLIENT, expectError, json, ORIGIN, sys } from "./api";
import { begin, count, newPool, type Mode } from "./passkeys";

/** Production needs ISSUER_BASE_URL (issue 8), and its tokens carry that issuer: get them through the same env. */
export const PROD = { ...env, ENVIRONMENT: "production", ISSUER_BASE_URL: "https://id.example.com" };
export async function prodToken(tid: string): Promise<string> {
  const res = await app.request(
    `${ORIGIN}/${tid}/system/oauth2/token`,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic(CLIENT.id, CLIENT.secret) },
      body: "grant_type=client_credentials&scope=identity",
    },
    PROD,
  );
  return (await json<{ access_token: string }>(res)).access_token;
}

type Message = { to: string; purpose: string; code: string; created_at: string };
type CodeRow = {
  tenant_id: string;
  pool_id: string;
  user_id: string;
  purpose: string;
  code_hash: string;
  attempts: number;
  expires_at: number;
  created_at: number;
};

/**
 * Each OTP test file works in a tenant of its own, so outbox counts are exact whatever other test files do: makes
 * the tenant and returns a pool in it.
 */
export async function otpTenant(tid: string): Promise<string> {
  await env.DB.prepare("INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (?, 'OTP tests', 0)").bind(tid).run();
  return newPool({}, tid);
}

/** The calls of an OTP test file, bound to its tenant and to its pool (made in beforeAll, hence a getter). */
export function otpHelpers(TID: string, pool: () => string) {
  const add = (action: "request" | "complete", body: unknown, p = pool()) =>
    sys("POST", `/pools/${p}/user/webauthn/add/${action}`, { tid: TID, body });

  async function outbox(tid = TID): Promise<Message[]> {
    return (await json<{ messages: Message[] }>(await sys("GET", "/outbox", { tid }))).messages;
  }

  /** The newest code sent to `to`. */
  async function codeFor(to: string): Promise<string> {
    const m = (await outbox()).find((x) => x.to === to);
    expect(m, `a message to ${to}`).toBeDefined();
    return m!.code;
  }

  async function request(body: Record<string, string>, p = pool()): Promise<void> {
    const res = await add("request", body, p);
    expect(res.status, await res.clone().text()).toBe(204);
  }

  /** A registration response answering a create/begin issued for this user. */
  async function registration(userId: string, mode: Mode = "classic", p = pool()): Promise<RegistrationResponseJSON> {
    return new SoftAuthenticator().register(await begin(p, userId, mode, TID), { origin: ORIGIN });
  }

  return { add, outbox, codeFor, request, registration };
}

export const codeRow = (userId: string) => env.DB.prepare("SELECT * FROM one_time_codes WHERE user_id = ?").bind(userId).first<CodeRow>();
export const passkeyCount = (userId: string) => count("credentials", "user_id = ? AND type = 'webauthn'", userId);

export async function expectOtpInvalid(res: Response): Promise<void> {
  const body = await expectError(res, 401, "otp_invalid");
  expect(body.error).toBe("the code or passkey could not be verified");
  expect(body.details).toEqual({});
  expect(res.headers.get("www-authenticate")).toBeNull();
}

/** A 401 that stored no passkey for any of these users. */
/** The error code that the last otp.failed event of the user recorded for a failed passkey. */
export async function lastPasskeyFailure(userId: string): Promise<unknown> {
  const row = await env.DB.prepare(
    "SELECT details FROM audit_events WHERE user_id = ? AND type = 'otp.failed' ORDER BY created_at DESC, rowid DESC",
  )
    .bind(userId)
    .first<{ details: string }>();
  return row && (JSON.parse(row.details) as { error_code?: string }).error_code;
}

/** A 401 that stored no passkey for any of these users. */
export async function expectRejected(res: Response, ...userIds: string[]): Promise<void> {
  await expectOtpInvalid(res);
  for (const id of userIds) expect(await passkeyCount(id)).toBe(0);
}
