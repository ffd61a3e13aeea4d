/** Helpers to run real enrollment ceremonies through the system API with the software authenticator. */
import type { PublicKeyCredentialCreationOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { expect } from "vitest";
import type { SoftAuthenticator, RegisterOpts } from "../authenticator";
import { json, ORIGIN, sys, uid } from "./api";

export type Mode = "classic" | "smart";
export const segment = (mode: Mode) => (mode === "smart" ? "usernameless-webauthn" : "webauthn");

export type CredentialJson = {
  id: string;
  type: string;
  name: string | null;
  discoverable_id: string;
  user_id: string;
  user_pool_id: string;
  tenant_id: string;
  state: string;
  payload: {
    credential_id: string;
    attestationType: string;
    transport: string[];
    flags: Record<string, boolean>;
    authenticator: { AAGUID: string; name: string | null; signCount: number; cloneWarning: boolean; attachment: string | null };
  };
  created_at: string;
  updated_at: string;
  last_used_at: string | null;
};

export async function newPool(body: Record<string, unknown> = {}, tid = "default"): Promise<string> {
  return (await json<{ id: string }>(await sys("POST", "/pools", { tid, body: { name: uid("pool"), ...body } }), 201)).id;
}

export async function newUser(
  pool = "default",
  tid = "default",
  extra: Record<string, unknown> = {},
): Promise<{ id: string; email: string }> {
  const email = `${uid("u")}@example.com`;
  const u = await json<{ id: string }>(
    await sys("POST", `/pools/${pool}/users`, {
      tid,
      body: {
        identifiers: [{ identifier: email, type: "email" }],
        verifiable_addresses: [{ address: email, type: "email", verified: true }],
        ...extra,
      },
    }),
    201,
  );
  return { id: u.id, email };
}

export async function begin(pool: string, userId: string, mode: Mode, tid = "default"): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const body = await json<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
    await sys("POST", `/pools/${pool}/users/${userId}/${segment(mode)}/create/begin`, { tid }),
  );
  return body.publicKey;
}

export function complete(pool: string, userId: string, mode: Mode, response: unknown, tid = "default"): Promise<Response> {
  return sys("POST", `/pools/${pool}/users/${userId}/${segment(mode)}/create/complete`, { tid, body: response });
}

/** begin + authenticator + complete; asserts success and returns the user's passkeys. */
export async function enroll(
  auth: SoftAuthenticator,
  pool: string,
  userId: string,
  mode: Mode,
  opts: Partial<RegisterOpts> = {},
  tid = "default",
) {
  const options = await begin(pool, userId, mode, tid);
  const response = await auth.register(options, { origin: ORIGIN, ...opts });
  const res = await complete(pool, userId, mode, response, tid);
  const body = await json<{ credentials: CredentialJson[] }>(res);
  return { options, response, credentials: body.credentials };
}

export async function count(table: string, where = "1=1", ...binds: unknown[]): Promise<number> {
  return (await env.DB.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)
    .bind(...binds)
    .first<{ n: number }>())!.n;
}

/** A snapshot of what enrollment may write, to assert that a rejected request stored nothing. */
export async function snapshot(userId: string) {
  return {
    passkeys: await count("credentials", "user_id = ? AND type = 'webauthn'", userId),
    audit: await count("audit_events", "user_id = ?", userId),
    rows: (await env.DB.prepare("SELECT * FROM credentials WHERE user_id = ? ORDER BY id").bind(userId).all()).results,
  };
}

export async function expectUnchanged(userId: string, before: Awaited<ReturnType<typeof snapshot>>) {
  expect(await snapshot(userId)).toEqual(before);
}
