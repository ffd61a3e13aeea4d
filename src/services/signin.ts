/** Sign-in: sign-in config, passkey options/finish (Smart, Classic, second factor), password first factor, tokens. */
import {
  AuthFailed,
  beginAuthentication,
  finishAuthentication,
  type AuthenticationBegin,
  type Authenticated,
} from "../webauthn/authentication";
import { rpIdFor } from "../webauthn/context";
import { b64url, fromB64url, newId } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { DUMMY_PASSWORD_HASH, verifyPassword } from "../crypto/password";
import { family, isPasskey } from "../domain/mechanisms";
import type { PasskeyMode } from "../domain/vocabulary";
import { orderedMethods, passkeyMode } from "../domain/workspace";
import { ApiError, notFound, validationFailed } from "../errors";
import { recordAudit } from "../repo/audit";
import { TTL } from "../domain/ttl";
import { poolOffersRecovery } from "../domain/pool";
import { getSigninTransaction, putSigninTransaction, type SigninTransaction } from "../repo/signin-transactions";
import type { PoolRow } from "../repo/pools";
import { classicTarget, credentialIdStored, secondFactorPasskeys, type SigninUser, workspaceUserByIdentifier } from "../repo/signin";
import { workspaceConfig } from "../repo/config-cache";
import type { AuthenticationResponseInput } from "../api/webauthn";
import {
  ADMIN_SCOPES,
  ADMIN_WORKSPACE,
  DEFAULT_ADMIN_SCOPE,
  DEFAULT_USER_SCOPE,
  createUserToken,
  isAdminSignIn,
  USER_SCOPES,
  userScope,
} from "./user-token";
import type { WorkspaceCall } from "./call";
import { providerSession, type StartedSession, sessionToStart, startProviderSession } from "./oidc-session";
import { authenticationFacts, type ProvenFactor } from "../domain/oidc";
import { takePasswordAttempt } from "./limits";
import { identifierKey } from "./users";
import type { WorkspaceWithPoolRows } from "./workspaces";

export const authenticationFailed = () => new ApiError("authentication_failed");

/**
 * A failed sign-in: the internal reason goes to the audit trail (and the log) only; the caller gets the one 401,
 * even when the audit write fails. Returns the error to throw.
 */
async function signinFailed(s: WorkspaceCall, who: { poolId?: string; userId?: string }, method: "passkey" | "password", reason: string) {
  console.log(`${method} sign-in failed:`, reason);
  await recordAudit(
    s.env.DB,
    {
      tenantId: s.tenantId,
      poolId: who.poolId ?? null,
      userId: who.userId ?? null,
      actor: "anonymous",
      type: "signin.failed",
      details: { reason, workspace_id: s.workspaceId, method },
    },
    s.now,
  ).catch((err: unknown) => console.error("audit of a failed sign-in was not written", err instanceof Error ? err.message : err));
  return authenticationFailed();
}

const shapeOf = (w: WorkspaceWithPoolRows) => ({
  mechanisms: w.workspace.mechanisms,
  mode: passkeyMode(w.workspace.mechanisms),
  pools: w.pools,
});

/** The workspace's configuration: the one read of it per request, from the isolate cache (repo/config-cache.ts). */
const configOf = (s: WorkspaceCall) => workspaceConfig(s.env.DB, s.tenantId, s.workspaceId, s.now);

async function loadWorkspace(s: WorkspaceCall) {
  const w = await configOf(s);
  if (!w) throw notFound("workspace");
  return shapeOf(w);
}

export interface SigninConfig {
  passkey_mode: PasskeyMode | null;
  methods: string[];
  preferred: string | null;
  /** A pool of the workspace takes new users who sign up with a passkey (the hosted sign-up page, issue 12). */
  sign_up: boolean;
  /** A pool of the workspace lets its users recover by a code to a verified address ("Lost your passkey?"). */
  recovery: boolean;
}

/**
 * GET /login/config, and the hosted sign-in page: the workspace's passkey mode and methods with the preferred one first
 * (the first pool's preference, in the workspace's passkey value). `found` is the workspace when the caller has read
 * it already (the page, through getPageWorkspace); otherwise it is read here (404 when unknown).
 */
export async function signinConfig(s: WorkspaceCall, found?: WorkspaceWithPoolRows): Promise<SigninConfig> {
  const { mechanisms, mode, pools } = found ? shapeOf(found) : await loadWorkspace(s);
  // Both make a passkey in the workspace's mode: without passkeys in the workspace, neither is offered.
  return {
    passkey_mode: mode,
    ...orderedMethods(mechanisms, pools[0]?.preferredMechanism),
    sign_up: mode !== null && pools.some((p) => p.signUp),
    recovery: mode !== null && pools.some(poolOffersRecovery),
  };
}

/**
 * Classic options for an identifier that has no usable passkey must look like a real user's: a decoy (see
 * classicTarget) lends its pool and the count and byte lengths of its credential ids, and the ids themselves are HMAC
 * output, stable per identifier. With no decoy at all (nobody in the workspace has a passkey yet), 1 or 2 ids of 32 bytes.
 */
async function fakeCredentialIds(k: CryptoKey, seed: string, lengths: number[] | null): Promise<{ id: string }[]> {
  const sizes = lengths ?? Array.from({ length: 1 + ((await hmac(k, seed))[0]! % 2) }, () => 32);
  return Promise.all(
    sizes.map(async (size, i) => {
      const out = new Uint8Array(size);
      for (let block = 0; block * 32 < size; block++)
        out.set((await hmac(k, `${seed}\u0000${i}\u0000${block}`)).subarray(0, size - block * 32), block * 32);
      if (size > FAKE_TAG_BYTES) out.set(await fakeIdTag(k, out.subarray(0, size - FAKE_TAG_BYTES)), size - FAKE_TAG_BYTES);
      return { id: b64url(out) };
    }),
  );
}

/**
 * A fake id ends with a tag (a MAC of the rest under the server's key), so the server knows its own fakes again and never
 * answers "unknown credential" for one: that would tell a Classic decoy from a real user (unknownCredentialDetail).
 */
const FAKE_TAG_BYTES = 8;
const fakeIdTag = async (k: CryptoKey, body: Uint8Array) => (await hmac(k, `fake-id-tag\u0000${b64url(body)}`)).subarray(0, FAKE_TAG_BYTES);
async function isFakeCredentialId(s: WorkspaceCall, id: Uint8Array): Promise<boolean> {
  if (id.length <= FAKE_TAG_BYTES) return false;
  const tag = await fakeIdTag(await hmacKey(s.env, "fake-credential-ids-v1"), id.subarray(0, id.length - FAKE_TAG_BYTES));
  return b64url(tag) === b64url(id.subarray(id.length - FAKE_TAG_BYTES));
}

/**
 * The Signal API's "unknown credential" (signalUnknownCredential on the hosted page): `{unknown_credential: true}` in the
 * 401 of a passkey finish only when the assertion named a credential id that no tenant's pool holds (a passkey deleted
 * here, still in the user's authenticator). Never for an id the options listed or a fake id of Classic options (a decoy
 * must look like a real user), nor for an id stored in another workspace or tenant with the same RP ID (the browser would
 * hide a passkey that works there). The caller holds the credential already: this says nothing about any account.
 */
async function unknownCredentialDetail(s: WorkspaceCall, tx: SigninTransaction, rawId: string): Promise<Record<string, unknown>> {
  const id = fromB64url(rawId);
  if (!id || id.length === 0 || tx.challenge?.allowCredentials?.includes(rawId)) return {};
  if (await isFakeCredentialId(s, id)) return {};
  return (await credentialIdStored(s.env.DB, rawId)) ? {} : { unknown_credential: true };
}

/** Allow-list, pool and user for Classic options: the user's own passkeys, or a decoy's shape (no account revealed). */
async function classicBegin(s: WorkspaceCall, pools: PoolRow[], first: PoolRow, identifier: string): Promise<AuthenticationBegin> {
  const key = identifierKey(identifier);
  const k = await hmacKey(s.env, "fake-credential-ids-v1");
  const seed = `${s.tenantId}\u0000${s.workspaceId}\u0000${key}`;
  const decoySeed = b64url((await hmac(k, `decoy\u0000${seed}`)).subarray(0, 16));
  const target = await classicTarget(s.env.DB, s.tenantId, s.workspaceId, key, decoySeed);
  const pool = (target.kind !== "none" && pools.find((p) => p.id === target.poolId)) || first;
  const real = target.kind === "user";
  // Transports are left out for real and fake ids alike, so both answers have the same shape.
  const allowCredentials = real
    ? target.credentialIds.map((id) => ({ id }))
    : await fakeCredentialIds(k, seed, target.kind === "decoy" ? target.idLengths : null);
  return {
    rpId: rpIdFor(pool, s.origin()),
    userVerification: pool.userVerification,
    mode: "classic" as const,
    userId: real ? target.userId : "",
    allowCredentials,
  };
}

function newSigninTransaction(s: WorkspaceCall, scope: string, fields: Partial<SigninTransaction> = {}): SigninTransaction {
  return {
    id: newId(),
    tenantId: s.tenantId,
    workspaceId: s.workspaceId,
    scope,
    amr: [],
    next: "passkey",
    expiresAt: s.now + TTL.signin * 1000,
    ...fields,
  };
}

/** Options for the second factor of a transaction whose first factor passed: the user's own passkeys, Classic style. */
async function secondFactorOptions(s: WorkspaceCall, pools: PoolRow[], loginId: string) {
  const tx = await getSigninTransaction(s.env.CHALLENGES, loginId, s.now);
  if (!tx || tx.tenantId !== s.tenantId || tx.workspaceId !== s.workspaceId || tx.next !== "second_factor" || !tx.userId)
    throw authenticationFailed();
  const pool =
    pools.find((p) => p.id === tx.poolId) ??
    (() => {
      throw authenticationFailed();
    })();
  // A transaction whose last challenge is consumed is complete: it gets no new challenge (no KV delete needed).
  const { credentialIds, done } = await secondFactorPasskeys(s.env.DB, s.tenantId, tx.userId, tx.challenge?.challenge ?? "");
  if (done) throw authenticationFailed();
  if (credentialIds.length === 0) throw new ApiError("second_factor_not_enrolled");
  const { options, challenge } = await beginAuthentication(
    {
      rpId: rpIdFor(pool, s.origin()),
      userVerification: pool.userVerification,
      mode: "classic",
      userId: tx.userId,
      allowCredentials: credentialIds.map((id) => ({ id })),
    },
    s.now,
  );
  // The transaction keeps its expiry; this step's challenge replaces any earlier one (one KV record, one write).
  await putSigninTransaction(s.env.CHALLENGES, { ...tx, challenge }, s.now);
  return { login_id: tx.id, publicKey: options };
}

/** POST /login/webauthn/options: Smart {}, Classic {identifier} (a decoy's shape for nobody), second factor {login_id}. */
export async function passkeyOptions(s: WorkspaceCall, body: { identifier?: string; login_id?: string; scope?: string }) {
  const origin = s.origin();
  const { mode, pools } = await loadWorkspace(s);
  if (body.login_id !== undefined) return secondFactorOptions(s, pools, body.login_id);

  if (!mode) throw new ApiError("method_not_enabled", "passkey sign-in is not enabled in this workspace");
  const scope = requestableScope(s, body.scope);
  const first =
    pools[0] ??
    (() => {
      throw new ApiError("invalid_configuration", "the workspace has no identity pool", { field: "identity_pools" });
    })();
  let begin: AuthenticationBegin;
  if (mode === "smart") {
    begin = { rpId: rpIdFor(first, origin), userVerification: first.userVerification, mode, userId: "", allowCredentials: [] };
  } else {
    if (body.identifier === undefined) {
      throw validationFailed("json", [{ field: "identifier", message: "required" }], "identifier is required in Classic mode");
    }
    begin = await classicBegin(s, pools, first, body.identifier);
  }
  const { options, challenge } = await beginAuthentication(begin, s.now);
  // The transaction and its challenge: one KV record, one write.
  const tx = newSigninTransaction(s, scope, { challenge });
  await putSigninTransaction(s.env.CHALLENGES, tx, s.now);
  return { login_id: tx.id, publicKey: options };
}

/** Scopes a sign-in (or a recovery, which ends in one) may ask for in this workspace, and the default when it asks for none. */
export function requestableScope(s: WorkspaceCall, requested: string | undefined): string {
  return s.workspaceId === ADMIN_WORKSPACE
    ? userScope(requested, ADMIN_SCOPES, DEFAULT_ADMIN_SCOPE)
    : userScope(requested, USER_SCOPES, DEFAULT_USER_SCOPE);
}

/** The granted scope: "identity" only for the tenant's administrators (admins pool through the admin workspace). */
function scopeForPool(s: WorkspaceCall, requested: string, pool: PoolRow): string {
  if (isAdminSignIn(s.workspaceId, pool.id)) return requested;
  const granted = requested.split(" ").filter((x) => x !== "identity");
  return (granted.length ? granted : DEFAULT_USER_SCOPE.split(" ")).join(" ");
}

/** The mechanisms still due after `done`, named as the contract's `next` values. */
const nextOf = (pool: PoolRow) => [...new Set(pool.secondFactorMechanisms.map((m) => (isPasskey(m) ? "webauthn" : m)))];

/** A factor that passed: the user, its pool, the methods so far (amr), and whether it was the first factor. */
interface Passed {
  pool: PoolRow;
  userId: string;
  amr: string[];
  firstFactor: boolean;
  /** The factors proven so far, with their passkey flags (for an OIDC provider session's amr/acr). */
  factors: ProvenFactor[];
}

/**
 * A completed sign-in that carried a pending OIDC authorization (`authz`): `continue_url` is where the hosted page goes
 * next; `providerSession` is for the route, which sets the session cookie and never sends this field.
 */
export interface OidcContinuation {
  continue_url?: string;
  providerSession?: StartedSession;
}

/** The passkey factor of a verified assertion: backup eligibility from the credential, UV from authenticatorData (flags bit 2). */
function passkeyFactor(backupEligible: boolean, authenticatorData: string): ProvenFactor {
  const flags = fromB64url(authenticatorData)?.[32] ?? 0;
  return { kind: "passkey", backupEligible, userVerified: (flags & 0x04) !== 0 };
}

/** A first factor in a pool with second factors: the answer is `next`, not a token. */
const secondFactorDue = (p: Passed) => p.firstFactor && p.pool.secondFactorMechanisms.length > 0;

/**
 * After a first factor, a pool with second factors answers `next`; otherwise (or after the second factor) a token.
 * `started`: the provider session the sign-in's commit already stored (passkey finish), else one is started here.
 */
async function tokenOrNext(s: WorkspaceCall, tx: SigninTransaction, passed: Passed, authz?: string, started?: StartedSession | null) {
  const { pool, userId, amr, factors } = passed;
  if (secondFactorDue(passed)) {
    const next: SigninTransaction = {
      ...tx,
      userId,
      poolId: pool.id,
      amr,
      factors,
      next: "second_factor",
      challenge: undefined,
      expiresAt: s.now + TTL.signin * 1000,
    };
    await putSigninTransaction(s.env.CHALLENGES, next, s.now);
    return { login_id: tx.id, next: nextOf(pool) };
  }
  // The transaction is left to its TTL, no KV delete: its challenge is consumed in D1, so its finish cannot pass again,
  // and second-factor options refuse a transaction whose last challenge is consumed (secondFactorPasskeys).
  return signedIn(s, tx.scope, { pool, userId, amr, factors }, authz, started);
}

/**
 * A user who proved every factor due (or who just made their first passkey: sign-up, recovery): a user token of the
 * scope asked for (`requested` already checked by requestableScope; "identity" only for administrators) and, when the
 * sign-in carried a pending OIDC authorization, the provider session and where the page goes next.
 */
async function signedIn(
  s: WorkspaceCall,
  requested: string,
  { pool, userId, amr, factors }: Omit<Passed, "firstFactor">,
  authz?: string,
  started?: StartedSession | null,
) {
  const scope = scopeForPool(s, requested, pool);
  const token = await createUserToken(s, { workspaceId: s.workspaceId, poolId: pool.id, userId, scope, amr, authTime: s.now });
  if (authz === undefined) return token;
  const session = started !== undefined ? started : await startProviderSession(s, authz, { poolId: pool.id, userId }, factors);
  const more: OidcContinuation = session ? { continue_url: session.continueUrl, providerSession: session } : {};
  return { ...token, ...more };
}

/**
 * Signed in by a passkey just registered (sign-up, recovery): the registration proved possession (and UV when its
 * flag was set), a first factor. A flag the stored row lacks counts against the passkey: synced, not user-verified.
 */
export function signedInWithNewPasskey(
  s: WorkspaceCall,
  requested: string,
  who: { pool: PoolRow; userId: string },
  passkey: { backupEligible: boolean | null; userVerified: boolean | null } | undefined,
  authz?: string,
) {
  const factor: ProvenFactor = {
    kind: "passkey",
    backupEligible: passkey?.backupEligible ?? true,
    userVerified: passkey?.userVerified ?? false,
  };
  return signedIn(s, requested, { ...who, amr: authenticationFacts([factor]).amr, factors: [factor] }, authz);
}

/**
 * What a verified passkey proves in this sign-in transaction; AuthFailed (with the passkey's owner, for the audit) when
 * its pool does not take it at this step. Runs before the assertion commits, so a refused passkey changes nothing.
 */
function passkeyStep(tx: SigninTransaction, { credential, pool }: Authenticated, authenticatorData: string): Passed {
  const who = { poolId: pool.id, userId: credential.userId };
  const factor = passkeyFactor(credential.backupEligible, authenticatorData);
  if (tx.next === "second_factor") {
    if (credential.userId !== tx.userId) throw new AuthFailed("second factor by another user's passkey", false, who);
    if (!pool.secondFactorMechanisms.some(isPasskey)) throw new AuthFailed("passkey is not a second factor of the pool", false, who);
    const factors = [
      ...(tx.factors ??
        tx.amr.map(
          (a): ProvenFactor => (a === "pwd" ? { kind: "password" } : { kind: "passkey", backupEligible: true, userVerified: false }),
        )),
      factor,
    ];
    return { pool, userId: credential.userId, amr: [...tx.amr, "pop"], firstFactor: false, factors };
  }
  // First factor: the credential's pool must offer passkeys as a first factor.
  if (!pool.mechanisms.some(isPasskey)) throw new AuthFailed("passkey is not a first factor of the pool", false, who);
  return { pool, userId: credential.userId, amr: ["pop"], firstFactor: true, factors: [factor] };
}

/**
 * POST /login/webauthn/finish: verifies the assertion, then a token or the next factor. A sign-in that completes with a
 * pending OIDC authorization stores its provider session in the assertion's commit batch.
 */
export async function passkeyFinish(s: WorkspaceCall, body: { login_id: string; credential: AuthenticationResponseInput; authz?: string }) {
  const origin = s.origin();
  const [tx, w, toStart] = await Promise.all([
    getSigninTransaction(s.env.CHALLENGES, body.login_id, s.now),
    configOf(s),
    body.authz === undefined ? null : sessionToStart(s, body.authz),
  ]);
  if (!tx || tx.tenantId !== s.tenantId || tx.workspaceId !== s.workspaceId) throw authenticationFailed();
  if (!w) throw notFound("workspace");
  const admit = (a: Authenticated) => {
    const passed = passkeyStep(tx, a, body.credential.response.authenticatorData);
    const session =
      toStart && !secondFactorDue(passed)
        ? providerSession(s, toStart, { poolId: passed.pool.id, userId: passed.userId }, passed.factors)
        : null;
    return { value: { passed, started: session?.started ?? null }, also: session ? [session.stmt] : [] };
  };
  let admitted: { passed: Passed; started: StartedSession | null };
  try {
    admitted = await finishAuthentication(
      s.env.DB,
      {
        tenantId: s.tenantId,
        workspaceId: s.workspaceId,
        signinId: tx.id,
        challenge: tx.challenge,
        pools: w.poolsById,
        response: body.credential,
        ctx: origin,
        admit,
      },
      s.now,
    );
  } catch (e) {
    if (!(e instanceof AuthFailed)) throw e;
    const failed = await signinFailed(s, e.who ?? { poolId: tx.poolId, userId: tx.userId }, "passkey", e.message);
    // The ceremony's lookup missed: the page may signal it.
    if (!e.unknownCredential) throw failed;
    throw new ApiError("authentication_failed", undefined, await unknownCredentialDetail(s, tx, body.credential.rawId));
  }
  return tokenOrNext(s, tx, admitted.passed, body.authz, body.authz === undefined ? undefined : admitted.started);
}

/** POST /login/password: the password first factor. */
export async function passwordSignin(s: WorkspaceCall, body: { identifier: string; password: string; scope?: string; authz?: string }) {
  s.origin(); // issues a token: 503 not_configured before anything is read or counted
  const { mechanisms, mode, pools } = await loadWorkspace(s);
  if (!mechanisms.includes("password")) throw new ApiError("method_not_enabled", "password sign-in is not enabled in this workspace");
  const scope = requestableScope(s, body.scope);
  const key = identifierKey(body.identifier);
  const user = await workspaceUserByIdentifier(s.env.DB, s.tenantId, s.workspaceId, key);
  const pool = user && pools.find((p) => p.id === user.poolId);
  // Abuse limit: a slot per attempt, taken before PBKDF2 (429 while the identifier is locked), given back on success.
  // Unknown identifiers lock exactly like known ones (one counter per identifier, the workspace's strictest limit).
  const slot = await takePasswordAttempt(s, pools, key, { poolId: pool?.id, userId: pool && user ? user.id : undefined });
  // Always run PBKDF2, so unknown users take as long as known ones.
  const ok = await verifyPassword(body.password, user?.passwordHash ?? DUMMY_PASSWORD_HASH);
  const failure =
    !user || !pool
      ? "unknown identifier"
      : !ok
        ? "wrong password"
        : user.status !== "active"
          ? "user is not active"
          : !pool.mechanisms.map(family).includes("password")
            ? "password is not a first factor of the pool"
            : null;
  if (failure || !user || !pool)
    throw await signinFailed(s, { poolId: pool?.id, userId: pool ? user?.id : undefined }, "password", failure ?? "unknown identifier");
  await slot.release();
  if (pool.secondFactorMechanisms.some(isPasskey) && user.passkeys.length === 0) {
    throw new ApiError("second_factor_not_enrolled");
  }
  const result = await tokenOrNext(
    s,
    newSigninTransaction(s, scope),
    { pool, userId: user.id, amr: ["pwd"], firstFactor: true, factors: [{ kind: "password" }] },
    body.authz,
  );
  return "access_token" in result && offersPasskeyUpgrade(pool, mode, user, result.scope) ? { ...result, passkey_upgrade: true } : result;
}

/**
 * Passkey upgrade (pool setting self_service.passkey_upgrade): after a password sign-in that ended signed in (not
 * before a second factor), the page may create a passkey with the answer's token, when the workspace has a passkey mode,
 * the pool takes passkeys as a first factor, the token may manage the profile, the user has no passkey usable in the
 * workspace's mode (Smart: none discoverable; Classic: none at all) and room for one more under the pool's limits.
 */
function offersPasskeyUpgrade(pool: PoolRow, mode: PasskeyMode | null, user: SigninUser, scope: string): boolean {
  if (!pool.passkeyUpgrade || mode === null || !pool.mechanisms.some(isPasskey)) return false;
  if (!scope.split(" ").includes("manage_ss_profile")) return false;
  const usable = user.passkeys.some((p) => mode === "classic" || p.discoverable);
  const credentials = user.passkeys.length + (user.passwordHash === null ? 0 : 1);
  return !usable && user.passkeys.length < pool.webauthnCapacity && credentials < pool.maxCredentials;
}
