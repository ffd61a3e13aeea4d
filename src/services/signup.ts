/**
 * Passkey sign-up, no HTTP here (issue 12 item 1): a new person proves an email address with a one-time code and
 * creates a passkey in the workspace's mode; the account exists only once the passkey is stored. No password.
 *
 * - The pool: the first of the workspace (in workspace order) with `self_service.sign_up`; the workspace must have a
 *   passkey mode. Otherwise the workspace offers no sign-up: 404, as for an unknown workspace.
 * - request: always the same answer `{signup_id}` (same shape and storage work either way). A new address gets a code
 *   (purpose sign_up, the pool's enroll_webauthn length and TTL); an address with an account in the workspace's pools
 *   gets a notice instead (purpose sign_up_existing_account, no code), and its signup_id can never pass a code check.
 *   The pool's per-hour code-request limit counts requests per address (429).
 * - options: checks the code without using it up (a wrong one takes one of the row's MAX_CODE_ATTEMPTS and counts
 *   against the address's daily wrong-code limit) and begins a registration for the account's user handle.
 * - complete: verifies the registration (§7.1; a failure is 400 and stores and uses nothing), then ONE batch checks the
 *   code again and, where it is right, creates the user (email identifier, verified address), consumes the challenge,
 *   inserts the passkey and deletes the pending row: a second or parallel complete finds no row (401 otp_invalid).
 *   Then the user is signed in (services/signin.ts signedIn), the passkey being the first factor.
 */
import type { RegistrationResponseInput } from "../api/webauthn";
import { b64url, newId, randomBytes } from "../crypto/bytes";
import { hmac, hmacKey } from "../crypto/derive";
import { OTP_FAILURES, OTP_REQUESTS, retryAfterSeconds } from "../domain/limits";
import type { PasskeyMode } from "../domain/vocabulary";
import { passkeyMode } from "../domain/workspace";
import type { Env } from "../env";
import { ApiError, notFound, validationFailed } from "../errors";
import type { AuditEvent } from "../repo/audit";
import { workspaceConfig } from "../repo/config-cache";
import { type BatchCounter, literal } from "../repo/counters";
import { isUniqueViolation } from "../repo/errors";
import type { PoolRow } from "../repo/pools";
import {
  accountStmts,
  checkSignupCode,
  createSignup,
  readSignup,
  type SignupOutcome,
  type SignupRef,
  type SignupRow,
  signupCheckStmts,
  signupOutcome,
} from "../repo/signups";
import type { IdentifierRow } from "../repo/users";
import {
  beginRegistration,
  completeRegistration,
  completionAsk,
  registrationChallenge,
  registrationFailed,
} from "../webauthn/registration";
import type { WorkspaceCall } from "./call";
import { poolLimit, rateLimited } from "./limits";
import { messengerFor, type Messenger } from "./messenger";
import { codePolicy, generateCode, otpInvalid } from "./otp";
import { type OidcContinuation, signedInWithNewPasskey } from "./signin";
import { type createUserToken, DEFAULT_USER_SCOPE, USER_SCOPES, userScope } from "./user-token";
import { identifierKey } from "./users";

export const SIGN_UP = "sign_up";
export const SIGN_UP_EXISTING_ACCOUNT = "sign_up_existing_account";

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** `user.created` for a signed-up account (repo/signups.ts accountStmts writes it only where the account stays). */
const accountCreated = (s: WorkspaceCall, row: SignupRow): AuditEvent => ({
  tenantId: s.tenantId,
  poolId: row.poolId,
  userId: row.userId,
  actor: `user:${row.userId}`,
  type: "user.created",
  details: { via: "sign_up", workspace_id: s.workspaceId },
});

/** The workspace's sign-up: its passkey mode, the pool that takes new users, and the workspace's pools. */
interface Target {
  mode: PasskeyMode;
  pool: PoolRow;
  pools: readonly PoolRow[];
}

/** 404 unless the workspace exists, has passkeys, and a pool of it takes sign-ups (from the isolate's cache: no D1). */
async function signupTarget(s: WorkspaceCall): Promise<Target> {
  const w = await workspaceConfig(s.env.DB, s.tenantId, s.workspaceId, s.now);
  const mode = w ? passkeyMode(w.workspace.mechanisms) : null;
  const pool = mode ? w?.pools.find((p) => p.signUp) : undefined;
  if (!w || !mode || !pool) throw notFound("sign-up");
  return { mode, pool, pools: w.pools };
}

/** The HMAC key of sign-up codes (503 when KEY_ENCRYPTION_SECRET is not set). */
const signupKey = (env: Env) => hmacKey(env, "sign-up-code-v1");

/** base64url HMAC-SHA256 of "<signup id>:<code>". */
const hashOf = async (key: CryptoKey, signupId: string, code: string) => b64url(await hmac(key, `${signupId}:${code}`));

/** The address as stored (trimmed, NFC) and its key; 400 naming `address` unless it is an email address. */
function emailAddress(raw: string): { address: string; key: string } {
  const address = raw.trim().normalize("NFC");
  if (CONTROL.test(address) || !EMAIL.test(address)) {
    throw validationFailed("json", [{ field: "address", message: "must be an email address" }], "address must be an email address");
  }
  return { address, key: identifierKey(address) };
}

const counterOf = (s: WorkspaceCall, key: string, limit: number, windowMs: number): BatchCounter => ({
  ref: { tenantId: s.tenantId, key },
  limit: literal(limit),
  windowMs,
  now: s.now,
});

/** Requests per address per hour: the pool's otp_requests_per_hour. */
const requestCounter = (s: WorkspaceCall, pool: PoolRow, addressKey: string) =>
  counterOf(s, `signupreq:${addressKey}`, poolLimit(pool, OTP_REQUESTS), OTP_REQUESTS.windowMs);
/** Wrong codes per address per day: the pool's otp_failures_per_day. */
const failureCounter = (s: WorkspaceCall, pool: PoolRow, addressKey: string) =>
  counterOf(s, `signupfail:${addressKey}`, poolLimit(pool, OTP_FAILURES), OTP_FAILURES.windowMs);

const anonymous = (s: WorkspaceCall, pool: PoolRow) => ({ tenantId: s.tenantId, poolId: pool.id, userId: null, actor: "anonymous" });

/** POST /signup/request: the same answer for every address; a code or a notice goes to it. */
export async function requestSignup(
  s: WorkspaceCall,
  input: { address: string },
  messenger: Messenger = messengerFor(s.env),
): Promise<{ signup_id: string }> {
  const { pool, pools } = await signupTarget(s);
  const { address, key: addressKey } = emailAddress(input.address);
  const key = await signupKey(s.env);
  const { length, ttlSeconds } = codePolicy(pool);
  const id = newId();
  const code = generateCode(length);
  const counter = requestCounter(s, pool, addressKey);
  const who = anonymous(s, pool);
  const outcome = await createSignup(
    s.env.DB,
    {
      row: {
        id,
        tenantId: s.tenantId,
        workspaceId: s.workspaceId,
        poolId: pool.id,
        address,
        addressKey,
        userId: newId(),
        userHandle: b64url(randomBytes(32)),
        expiresAt: s.now + ttlSeconds * 1000,
        createdAt: s.now,
      },
      codeHash: await hashOf(key, id, code),
      decoyHash: b64url(randomBytes(32)),
      poolIds: pools.map((p) => p.id),
      counter,
      requested: { ...who, type: "otp.requested", details: { purpose: SIGN_UP, channel: "email", signup_id: id } },
      refusal: { ...who, type: "rate_limited", details: { limit: OTP_REQUESTS.name, max: poolLimit(pool, OTP_REQUESTS) } },
    },
    s.now,
  );
  if (outcome.kind === "limited") throw rateLimited(OTP_REQUESTS.name, retryAfterSeconds(outcome.expiresAt, s.now));
  const message = outcome.existing
    ? { tenantId: s.tenantId, to: address, purpose: SIGN_UP_EXISTING_ACCOUNT, code: "" }
    : { tenantId: s.tenantId, to: address, purpose: SIGN_UP, code };
  // Off the critical path: the answer does not wait for the delivery of either message.
  s.defer(
    messenger.send(message, s.now).catch((e: unknown) => {
      console.error(`sign-up message delivery failed (tenant ${s.tenantId}):`, e instanceof Error ? e.message : "unknown error");
    }),
  );
  return { signup_id: id };
}

/** The pending sign-up's pool, while it still takes sign-ups in this workspace; else the check fails like a wrong code. */
function poolOf(t: Target, row: SignupRow | undefined): PoolRow {
  const pool = row && t.pools.find((p) => p.id === row.poolId);
  if (!row || !pool?.signUp) throw otpInvalid();
  return pool;
}

/** The statements of a code check of this sign-up (repo/signups.ts signupCheckStmts). */
async function codeCheck(s: WorkspaceCall, pool: PoolRow, row: SignupRow, code: string, mode: "check" | "consume") {
  const who = anonymous(s, pool);
  const ref: SignupRef = { id: row.id, tenantId: s.tenantId, workspaceId: s.workspaceId };
  return signupCheckStmts(s.env.DB, {
    ref,
    given: await hashOf(await signupKey(s.env), row.id, code),
    counter: failureCounter(s, pool, row.addressKey),
    mode,
    userId: row.userId,
    failed: { ...who, type: "otp.failed", details: { purpose: SIGN_UP, reason: "code", signup_id: row.id } },
    refusal: { ...who, type: "rate_limited", details: { limit: OTP_FAILURES.name, max: poolLimit(pool, OTP_FAILURES) } },
    now: s.now,
  });
}

/** Throws unless the code was right: 429 for a full wrong-code window, else otp_invalid. */
function refuseUnlessRight(s: WorkspaceCall, outcome: SignupOutcome | undefined): void {
  if (outcome?.kind === "limited") throw rateLimited(OTP_FAILURES.name, retryAfterSeconds(outcome.expiresAt, s.now));
  if (outcome?.kind !== "right") throw otpInvalid();
}

/** The account-to-be as the registration ceremony's subject: no passkeys yet, the address as its name. */
function subjectOf(pool: PoolRow, row: SignupRow) {
  const identifier: IdentifierRow = {
    userId: row.userId,
    tenantId: row.tenantId,
    poolId: row.poolId,
    identifier: row.address,
    identifierKey: row.addressKey,
    type: "email",
    position: 0,
  };
  return {
    pool,
    user: {
      id: row.userId,
      tenantId: row.tenantId,
      poolId: row.poolId,
      userHandle: row.userHandle,
      identifiers: [identifier],
      credentials: [],
    },
  };
}

const refOf = (s: WorkspaceCall, signupId: string): SignupRef => ({ id: signupId, tenantId: s.tenantId, workspaceId: s.workspaceId });

/** POST /signup/webauthn/options: the code checked (not used up), then creation options in the workspace's mode. */
export async function beginSignup(s: WorkspaceCall, input: { signup_id: string; code: string }) {
  const origin = s.origin();
  const t = await signupTarget(s);
  const { row } = await readSignup(s.env.DB, refOf(s, input.signup_id));
  const pool = poolOf(t, row);
  const r = row as SignupRow;
  refuseUnlessRight(s, await checkSignupCode(s.env.DB, await codeCheck(s, pool, r, input.code, "check")));
  return { publicKey: await beginRegistration(s.env, subjectOf(pool, r), t.mode, origin, s.now) };
}

/** A passkey sign-in's answer: the user token, and with `authz` the OIDC continuation (providerSession for the route). */
type SignupAnswer = Awaited<ReturnType<typeof createUserToken>> & OidcContinuation;

export interface SignupCompletion {
  signup_id: string;
  code: string;
  credential: RegistrationResponseInput;
  authz?: string;
  scope?: string;
}

/**
 * POST /signup/webauthn/complete: two D1 round trips (the row with the duplicate and single-use checks; the commit
 * batch) and one KV read (the challenge). Answers like a passkey sign-in's finish.
 */
export async function completeSignup(s: WorkspaceCall, input: SignupCompletion): Promise<SignupAnswer> {
  const origin = s.origin();
  const t = await signupTarget(s);
  const scope = userScope(input.scope, USER_SCOPES, DEFAULT_USER_SCOPE);
  const ask = completionAsk(input.credential);
  const [read, challenge] = await Promise.all([
    readSignup(s.env.DB, refOf(s, input.signup_id), ask),
    registrationChallenge(s.env, input.credential),
  ]);
  const pool = poolOf(t, read.row);
  const row = read.row as SignupRow;
  const check = await codeCheck(s, pool, row, input.code, "consume");
  const account = accountStmts(s.env.DB, row, check.gate, accountCreated(s, row), s.now);
  let outcome: SignupOutcome | undefined;
  let passkeys: Awaited<ReturnType<typeof completeRegistration>>;
  try {
    if (challenge?.purpose !== "register") throw registrationFailed("unknown challenge");
    passkeys = await completeRegistration(s.env, subjectOf(pool, row), t.mode, input.credential, origin, `user:${row.userId}`, s.now, {
      challenge,
      credentialTaken: read.credentialTaken,
      challengeUsed: read.challengeUsed,
      gate: {
        head: [...check.head, ...account.insert],
        gate: check.gate,
        tail: [account.undo, account.audit, ...check.tail],
        settle: (head, tail) => {
          outcome = signupOutcome(head.slice(0, check.head.length), tail);
          refuseUnlessRight(s, outcome);
        },
      },
    });
  } catch (e) {
    if (isUniqueViolation(e, "identifiers")) {
      throw new ApiError("identifier_taken", "an account with this address exists already: sign in instead", { field: "address" });
    }
    throw e;
  }
  const passkey = passkeys.find((p) => p.userId === row.userId);
  if (!passkey) throw otpInvalid();
  return signedInWithNewPasskey(s, scope, { pool, userId: row.userId }, passkey, input.authz);
}
