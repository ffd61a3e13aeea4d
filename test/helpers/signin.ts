/** Helpers for sign-in tests: workspaces in a given mode, options/finish calls, token checks against the JWKS. */
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { env, SELF } from "cloudflare:test";
import { decodeProtectedHeader, importJWK, jwtVerify, type JWK, type JWTPayload } from "jose";
import { signAccessToken } from "../../src/crypto/jwt";
import { call, json, ORIGIN, sys, uid } from "./api";
import { newPool } from "./passkeys";

export async function newWorkspace(mechanisms: string[], pools: string[], tid = "default"): Promise<string> {
  return (
    await json<{ id: string }>(
      await sys("POST", "/workspaces", { tid, body: { name: uid("ws"), authentication_mechanisms: mechanisms, identity_pools: pools } }),
      201,
    )
  ).id;
}

/** A fresh pool and a workspace over it. */
export async function setup(mode: "smart" | "classic", poolBody: Record<string, unknown> = {}, extra: string[] = ["password"]) {
  const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"], ...poolBody });
  const wid = await newWorkspace([mode === "smart" ? "usernameless_webauthn" : "webauthn", ...extra], [pool]);
  return { pool, wid };
}

export type Options = { login_id: string; publicKey: PublicKeyCredentialRequestOptionsJSON };
export type Tokens = { access_token: string; token_type: string; expires_in: number; scope: string };

export const optionsRes = (wid: string, body: Record<string, unknown> = {}, tid = "default") =>
  call("POST", `/${tid}/${wid}/login/webauthn/options`, { body });
export async function options(wid: string, body: Record<string, unknown> = {}, tid = "default"): Promise<Options> {
  return json<Options>(await optionsRes(wid, body, tid));
}
export const finish = (wid: string, login_id: string, credential: unknown, tid = "default") =>
  call("POST", `/${tid}/${wid}/login/webauthn/finish`, { body: { login_id, credential } });
export const password = (wid: string, body: Record<string, unknown>, tid = "default") =>
  call("POST", `/${tid}/${wid}/login/password`, { body });

/** Verifies a token's signature against the tenant's published JWKS and returns its claims. */
export async function verifyWithJwks(token: string, tid = "default"): Promise<JWTPayload & Record<string, unknown>> {
  const jwks = await json<{ keys: JWK[] }>(await SELF.fetch(`${ORIGIN}/${tid}/.well-known/jwks.json`));
  const { kid } = decodeProtectedHeader(token);
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error("no key in the JWKS for this token");
  const { payload } = await jwtVerify(token, await importJWK(jwk, "ES256"), { issuer: `${ORIGIN}/${tid}` });
  return payload as JWTPayload & Record<string, unknown>;
}

/** A user token minted as sign-in would, with a chosen auth_time (seconds ago) and scope. */
export async function userToken(t: { wid: string; pool: string; userId: string }, o: { ago?: number; scope?: string; tid?: string } = {}) {
  const now = Date.now();
  return signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    `${ORIGIN}/${o.tid ?? "default"}`,
    {
      sub: t.userId,
      tid: o.tid ?? "default",
      wid: t.wid,
      pool_id: t.pool,
      scope: o.scope ?? "view_ss_profile manage_ss_profile",
      amr: ["pop"],
      auth_time: Math.floor(now / 1000) - (o.ago ?? 0),
    },
    900,
    now,
  );
}
