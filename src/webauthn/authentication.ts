/**
 * Authentication ceremony (WebAuthn §7.2) for sign-in. begin: request options and the challenge record the caller
 * keeps (in the sign-in transaction's one KV record). finish: every check of §7.2 against that record, then one D1
 * batch that consumes the challenge and records the new sign count, backup state and last use. No HTTP and no KV here.
 * Every failure is the same AuthFailed, so callers answer one 401.
 */
import { generateAuthenticationOptions, verifyAuthenticationResponse } from "@simplewebauthn/server";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { fromB64url, randomBytes } from "../crypto/bytes";
import { checkAuthenticator, storedFacts } from "../domain/authenticator-policy";
import type { PasskeyMode, UserVerification } from "../domain/vocabulary";
import { TTL } from "../domain/ttl";
import type { PoolRow } from "../repo/pools";
import { commitAssertion, flagClone, workspaceCredential, type SigninCredential } from "../repo/signin";
import type { SigninChallenge } from "../repo/signin-transactions";
import type { AuthenticationResponseInput } from "../api/webauthn";
import { authDataProblem, derSignatureProblem, ECDSA_ALGORITHMS } from "./encoding";
import { originsFor, parseClientData, rpIdFor, type RequestContext } from "./context";

/**
 * A sign-in failure. `reason` is for logs and audit only; clients always see the same 401. `unknownCredential`: no
 * passkey of the workspace's pools has the asserted id (the Signal API's case, services/signin.ts).
 */
export class AuthFailed extends Error {
  constructor(
    reason: string,
    readonly unknownCredential = false,
    /** Whose verified passkey was refused (a caller's `admit` rule), for the audit trail. */
    readonly who?: { poolId: string; userId: string },
  ) {
    super(reason);
  }
}
const fail = (reason: string): never => {
  throw new AuthFailed(reason);
};
const unknownCredential = (): never => {
  throw new AuthFailed("unknown credential", true);
};

export interface AuthenticationBegin {
  rpId: string;
  userVerification: UserVerification;
  mode: PasskeyMode;
  /** The user the ceremony is for; "" when unknown (Smart sign-in, or an unknown Classic identifier). */
  userId: string;
  allowCredentials: { id: string; transports?: string[] }[];
}

/** Request options and the challenge record to keep until the finish (the caller stores it; nothing is written here). */
export async function beginAuthentication(
  b: AuthenticationBegin,
  now: number,
): Promise<{ options: PublicKeyCredentialRequestOptionsJSON; challenge: SigninChallenge }> {
  const options = await generateAuthenticationOptions({
    rpID: b.rpId,
    allowCredentials: b.allowCredentials,
    challenge: randomBytes(32),
    timeout: TTL.challenge * 1000,
    userVerification: b.userVerification,
  });
  const challenge: SigninChallenge = {
    challenge: options.challenge,
    rpId: b.rpId,
    mode: b.mode,
    userId: b.userId,
    allowCredentials: b.allowCredentials.map((c) => c.id),
    expiresAt: now + TTL.challenge * 1000,
  };
  return { options, challenge };
}

export interface AuthenticationFinish<T> {
  tenantId: string;
  workspaceId: string;
  signinId: string;
  /** The challenge the sign-in transaction holds (undefined: none pending, e.g. a record of an older shape). */
  challenge: SigninChallenge | undefined;
  /** The workspace's pools by id. */
  pools: ReadonlyMap<string, PoolRow>;
  response: AuthenticationResponseInput;
  ctx: RequestContext;
  /**
   * The caller's rules for the verified credential, run before anything is committed: throw AuthFailed to refuse
   * (nothing stored, the challenge unused), or return what the sign-in proved (`value`, returned once committed) and
   * statements that commit in the assertion's batch (`also`: e.g. the provider session of a completed sign-in).
   */
  admit: (a: Authenticated) => { value: T; also: D1PreparedStatement[] };
}

export interface Authenticated {
  credential: SigninCredential;
  pool: PoolRow;
}

/** Verifies an assertion for a sign-in transaction and commits its use. Throws AuthFailed on any failure. */
// biome-ignore lint/complexity/noExcessiveLinesPerFunction: the §7.2 checklist, read top to bottom in the spec's order
export async function finishAuthentication<T>(d1: D1Database, f: AuthenticationFinish<T>, now: number): Promise<T> {
  const { response } = f;
  const clientData = parseClientData(response.response.clientDataJSON) ?? fail("clientDataJSON is malformed");
  if (clientData.crossOrigin === true) fail("cross-origin ceremony");
  // The record comes from the transaction of this tenant, workspace and login id: that binds the challenge to them.
  const rec = f.challenge ?? fail("no challenge pending in the sign-in transaction");
  if (clientData.challenge !== rec.challenge) fail("unknown challenge");
  if (rec.expiresAt <= now) fail("challenge expired");
  if (response.id !== response.rawId) fail("id and rawId differ");

  const cred = (await workspaceCredential(d1, f.tenantId, f.workspaceId, response.rawId, rec.challenge)) ?? unknownCredential();
  // A replay fails here, before any counter is judged (a replayed assertion must not flag a clone).
  if (cred.challengeUsed) fail("challenge already used");
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
  // The pool's authenticator policy now (it may have changed since the passkey was registered): cached config, no read.
  if (!checkAuthenticator(pool, storedFacts(cred)).ok) fail("authenticator_policy");
  const stored = cred.signCount;
  const fresh = info.newCounter;
  if ((stored > 0 || fresh > 0) && fresh <= stored) {
    await flagClone(
      d1,
      cred.id,
      { ...audit, type: "passkey.clone_warning", details: { credential: cred.id, stored, received: fresh } },
      now,
    );
    fail("sign count did not increase");
  }

  const admitted = f.admit({ credential: cred, pool });
  const committed = await commitAssertion(
    d1,
    { challenge: rec.challenge, tenantId: f.tenantId, purpose: "authenticate", expiresAt: rec.expiresAt },
    {
      credentialEntryId: cred.id,
      signCount: fresh,
      backupState: info.credentialBackedUp,
      userVerified: info.userVerified,
      discoverableId: userHandle ? cred.userHandle : undefined,
    },
    { ...audit, type: "signin.succeeded", details: { credential: cred.id, login_id: f.signinId } },
    now,
    admitted.also,
  );
  if (!committed) fail("challenge already used");
  return admitted.value;
}
