/**
 * Authentication ceremony (WebAuthn §7.2) for sign-in. begin: request options + a challenge record in KV bound to
 * the sign-in transaction. finish: every check of §7.2, then one D1 batch that consumes the challenge and records the
 * new sign count, backup state and last use. Every failure is the same AuthFailed, so callers answer one 401.
 */
import { generateAuthenticationOptions, verifyAuthenticationResponse } from "@simplewebauthn/server";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import type { Env } from "../env";
import { fromB64url, randomBytes } from "../crypto/bytes";
import type { PasskeyMode, UserVerification } from "../domain/vocabulary";
import { TTL } from "../domain/ttl";
import { deleteChallenge, getChallenge, putChallenge } from "../repo/challenges";
import type { PoolRow } from "../repo/pools";
import { commitAssertion, flagClone, workspaceCredential, type SigninCredential } from "../repo/signin";
import type { AuthenticationResponseInput } from "../api/webauthn";
import { authDataProblem, derSignatureProblem, ECDSA_ALGORITHMS } from "./encoding";
import { originsFor, parseClientData, rpIdFor, type RequestContext } from "./context";

/** A sign-in failure. `reason` is for logs and audit only; clients always see the same 401. */
export class AuthFailed extends Error {}
const fail = (reason: string): never => {
  throw new AuthFailed(reason);
};

export interface AuthenticationBegin {
  tenantId: string;
  workspaceId: string;
  signinId: string;
  rpId: string;
  userVerification: UserVerification;
  mode: PasskeyMode;
  /** The user the ceremony is for; "" when unknown (Smart sign-in, or an unknown Classic identifier). */
  userId: string;
  poolId: string;
  allowCredentials: { id: string; transports?: string[] }[];
}

export async function beginAuthentication(env: Env, b: AuthenticationBegin, now: number): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const options = await generateAuthenticationOptions({
    rpID: b.rpId,
    allowCredentials: b.allowCredentials,
    challenge: randomBytes(32),
    timeout: TTL.challenge * 1000,
    userVerification: b.userVerification,
  });
  await putChallenge(env.CHALLENGES, {
    challenge: options.challenge,
    tenantId: b.tenantId,
    poolId: b.poolId,
    userId: b.userId,
    purpose: "authenticate",
    mode: b.mode,
    rpId: b.rpId,
    allowCredentials: b.allowCredentials.map((c) => c.id),
    context: { workspaceId: b.workspaceId, signinId: b.signinId },
    expiresAt: now + TTL.challenge * 1000,
  });
  return options;
}

export interface AuthenticationFinish {
  tenantId: string;
  workspaceId: string;
  signinId: string;
  /** The workspace's pools by id. */
  pools: Map<string, PoolRow>;
  response: AuthenticationResponseInput;
  ctx: RequestContext;
}

export interface Authenticated {
  credential: SigninCredential;
  pool: PoolRow;
}

/** Verifies an assertion for a sign-in transaction and commits its use. Throws AuthFailed on any failure. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the §7.2 checklist, read top to bottom in the spec's order
export async function finishAuthentication(env: Env, f: AuthenticationFinish, now: number): Promise<Authenticated> {
  const { response } = f;
  const clientData = parseClientData(response.response.clientDataJSON) ?? fail("clientDataJSON is malformed");
  if (clientData.crossOrigin === true) fail("cross-origin ceremony");
  const rec = (await getChallenge(env.CHALLENGES, clientData.challenge)) ?? fail("unknown challenge");
  if (
    rec.purpose !== "authenticate" ||
    rec.tenantId !== f.tenantId ||
    rec.context?.workspaceId !== f.workspaceId ||
    rec.context?.signinId !== f.signinId
  ) {
    fail("challenge issued for another ceremony");
  }
  if (rec.expiresAt <= now) fail("challenge expired");
  if (response.id !== response.rawId) fail("id and rawId differ");

  const cred = (await workspaceCredential(env.DB, f.tenantId, f.workspaceId, response.rawId)) ?? fail("unknown credential");
  if (rec.allowCredentials?.length && !rec.allowCredentials.includes(cred.credentialId)) fail("credential not in allowCredentials");
  if (rec.userId && cred.userId !== rec.userId) fail("credential of another user");
  const userHandle = response.response.userHandle;
  if (rec.mode === "smart" && !userHandle) fail("Smart sign-in needs a discoverable credential (userHandle)");
  if (userHandle && userHandle !== cred.userHandle) fail("userHandle does not match the credential's owner");
  if (cred.userStatus !== "active") fail("user is not active");

  const authData = fromB64url(response.response.authenticatorData) ?? fail("authenticatorData is not base64url");
  const structure = authDataProblem(authData, "assertion");
  if (structure) fail(structure);
  if (cred.algorithm !== null && ECDSA_ALGORITHMS.has(cred.algorithm)) {
    const der = derSignatureProblem(fromB64url(response.response.signature) ?? new Uint8Array());
    if (der) fail(der);
  }

  const pool = f.pools.get(cred.poolId) ?? fail("credential's pool is not in the workspace");
  const rpId = rpIdFor(pool, f.ctx);
  if (rpId !== rec.rpId) fail("relying party differs from the one the options named");

  let info: Awaited<ReturnType<typeof verifyAuthenticationResponse>>["authenticationInfo"];
  try {
    const v = await verifyAuthenticationResponse({
      response: {
        ...response,
        clientExtensionResults: response.clientExtensionResults ?? {},
        response: { ...response.response, userHandle: userHandle ?? undefined },
      } as Parameters<typeof verifyAuthenticationResponse>[0]["response"],
      expectedChallenge: rec.challenge,
      expectedOrigin: originsFor(pool, f.ctx),
      expectedRPID: rpId,
      expectedType: "webauthn.get",
      // Counter 0: the library then never judges counters; we do below, only after the signature verified.
      credential: { id: cred.credentialId, publicKey: fromB64url(cred.publicKey)!, counter: 0 },
      requireUserVerification: pool.userVerification === "required",
    });
    if (!v.verified) fail("signature did not verify");
    info = v.authenticationInfo;
  } catch (e) {
    if (e instanceof AuthFailed) throw e;
    return fail(e instanceof Error ? e.message : "verification failed");
  }

  const audit = { tenantId: f.tenantId, poolId: cred.poolId, userId: cred.userId, actor: `user:${cred.userId}` };
  if ((info.credentialDeviceType === "multiDevice") !== cred.backupEligible) fail("backup eligibility changed");
  const stored = cred.signCount;
  const fresh = info.newCounter;
  if ((stored > 0 || fresh > 0) && fresh <= stored) {
    await flagClone(
      env.DB,
      cred.id,
      { ...audit, type: "passkey.clone_warning", details: { credential: cred.id, stored, received: fresh } },
      now,
    );
    fail("sign count did not increase");
  }

  const committed = await commitAssertion(
    env.DB,
    { challenge: rec.challenge, tenantId: rec.tenantId, purpose: "authenticate", expiresAt: rec.expiresAt },
    {
      credentialEntryId: cred.id,
      signCount: fresh,
      backupState: info.credentialBackedUp,
      userVerified: info.userVerified,
      discoverableId: userHandle ? cred.userHandle : undefined,
    },
    { ...audit, type: "signin.succeeded", details: { credential: cred.id, login_id: f.signinId } },
    now,
  );
  if (!committed) fail("challenge already used");
  await deleteChallenge(env.CHALLENGES, rec.challenge).catch(() => undefined);
  return { credential: cred, pool };
}
