/**
 * Pending passkey sign-ups (table signups). Every write that must hold under concurrency is a conditional statement
 * of one batch, as for one-time codes (repo/codes.ts):
 * - a request (createSignup) purges expired rows, says whether the address already has an account in the workspace's
 *   pools, counts the request against the address (refused when the window is full) and inserts the row: the HMAC of
 *   the code, or for an address with an account a hash that no code matches (so every later step fails like a wrong
 *   code);
 * - a code check (signupCheckStmts) compares the submitted code's HMAC in SQL; a wrong one takes one of the row's
 *   attempts and counts against the address's daily wrong-code window; on completion the account's rows
 *   (accountStmts) are inserted only where the check holds, and the row is deleted last, only once the passkey landed
 *   (a statement that can succeed once: two completes make one account).
 */
import { signups } from "../db/schema";
import { auditIfStmt, type AuditEvent } from "./audit";
import { MAX_CODE_ATTEMPTS } from "./codes";
import {
  type BatchCounter,
  counterFull,
  type Fragment,
  firstRefusalOf,
  literal,
  prepareFragment,
  refuseWhen,
  reserveWhen,
  sqlOf,
} from "./counters";
import { mapped, rowMapper } from "./rows";

export type SignupRow = typeof signups.$inferSelect;
const signupRow = rowMapper(signups);

/** What a request writes; `codeHash` is used only when the address has no account, else `decoyHash`. */
export interface NewSignup {
  row: Omit<SignupRow, "codeHash" | "attempts">;
  codeHash: string;
  decoyHash: string;
  /** The pools of the workspace, where an account with the address would be found. */
  poolIds: readonly string[];
  /** The per-address request counter (the pool's per-hour code-request limit). */
  counter: BatchCounter;
  /** Audited when the row is written; `refusal` for the window's first refused request. */
  requested: AuditEvent;
  refusal: AuditEvent;
}

export type SignupRequestOutcome = { kind: "limited"; expiresAt: number } | { kind: "created"; existing: boolean };

/** An account in one of the pools with this address: as an identifier, or as a verified address. */
function accountExists(tenantId: string, poolIds: readonly string[], addressKey: string): Fragment {
  const pools = sqlOf`(SELECT value FROM json_each(${JSON.stringify(poolIds)}))`;
  return sqlOf`(EXISTS (SELECT 1 FROM identifiers WHERE tenant_id = ${tenantId} AND identifier_key = ${addressKey} AND pool_id IN ${pools})
    OR EXISTS (SELECT 1 FROM verifiable_addresses WHERE tenant_id = ${tenantId} AND address_key = ${addressKey} AND verified = 1
      AND pool_id IN ${pools}))`;
}

/** One request, one batch (one round trip): purge, the existing-account check, the request limit, the row. */
export async function createSignup(d1: D1Database, s: NewSignup, now: number): Promise<SignupRequestOutcome> {
  const r = s.row;
  const existing = accountExists(r.tenantId, s.poolIds, r.addressKey);
  const full = counterFull(s.counter);
  const first = firstRefusalOf(s.counter);
  const [, exists, refused] = await d1.batch([
    d1.prepare("DELETE FROM signups WHERE expires_at <= ?").bind(now),
    prepareFragment(d1, sqlOf`SELECT ${existing} AS existing`),
    refuseWhen(d1, s.counter, sqlOf`1`),
    auditIfStmt(d1, s.refusal, now, `SELECT 1 WHERE ${first.text}`, [...first.binds]),
    // The row is written while the window has room (read before the slot below is taken).
    prepareFragment(
      d1,
      sqlOf`INSERT INTO signups (id, tenant_id, workspace_id, pool_id, address, address_key, user_id, user_handle, code_hash, attempts, expires_at, created_at)
        SELECT ${r.id}, ${r.tenantId}, ${r.workspaceId}, ${r.poolId}, ${r.address}, ${r.addressKey}, ${r.userId}, ${r.userHandle},
          CASE WHEN ${existing} THEN ${s.decoyHash} ELSE ${s.codeHash} END, 0, ${r.expiresAt}, ${r.createdAt}
        WHERE NOT ${full}`,
    ),
    auditIfStmt(d1, s.requested, now, "SELECT 1 FROM signups WHERE id = ?", [r.id]),
    reserveWhen(d1, s.counter, sqlOf`1`),
  ]);
  const limited = refused?.results?.[0] as { expires_at: number } | undefined;
  if (limited) return { kind: "limited", expiresAt: limited.expires_at };
  return { kind: "created", existing: (exists?.results?.[0] as { existing: number } | undefined)?.existing === 1 };
}

const SIGNUP_SQL = "SELECT * FROM signups WHERE id = ? AND tenant_id = ? AND workspace_id = ?";
const TAKEN_SQL = "SELECT 1 AS taken FROM credentials WHERE tenant_id = ? AND credential_id = ?";
const CONSUMED_SQL = "SELECT 1 AS used FROM consumed_challenges WHERE challenge = ?";

export interface SignupRef {
  id: string;
  tenantId: string;
  workspaceId: string;
}

/** What complete asks of the read besides the row: whether the credential id is taken, the challenge consumed. */
export interface SignupAsk {
  credentialId: string;
  challenge?: string;
}

/** The pending sign-up (any state: the check decides), and complete's early checks when asked: one round trip. */
export async function readSignup(
  d1: D1Database,
  ref: SignupRef,
  ask?: SignupAsk,
): Promise<{ row: SignupRow | undefined; credentialTaken?: boolean; challengeUsed?: boolean }> {
  const stmts = [d1.prepare(SIGNUP_SQL).bind(ref.id, ref.tenantId, ref.workspaceId)];
  if (ask) {
    stmts.push(d1.prepare(TAKEN_SQL).bind(ref.tenantId, ask.credentialId));
    if (ask.challenge !== undefined) stmts.push(d1.prepare(CONSUMED_SQL).bind(ask.challenge));
  }
  const [row, taken, used] = await d1.batch(stmts);
  const found = (r: D1Result | undefined) => (r?.results?.length ?? 0) > 0;
  return {
    row: mapped(row, signupRow)[0],
    ...(ask && { credentialTaken: found(taken) }),
    ...(ask?.challenge !== undefined && { challengeUsed: found(used) }),
  };
}

export interface SignupCheck {
  ref: SignupRef;
  /** The HMAC of the submitted code. */
  given: string;
  /** The per-address wrong-code counter (the pool's otp_failures_per_day). */
  counter: BatchCounter;
  /** check: the row is left as it was (options); consume: it is deleted once the account's passkey exists (complete). */
  mode: "check" | "consume";
  /** The account's user id: consume deletes the row only when this user has a passkey. */
  userId: string;
  /** Audited for a wrong code, and for the window's first refusal. */
  failed: AuditEvent;
  refusal: AuditEvent;
  now: number;
}

/** The statements of one check, to run in ONE batch: `head`, what `gate` guards, then `tail`. */
export interface SignupCheckStmts {
  head: D1PreparedStatement[];
  /** True (for the statements between head and tail) iff the code is right and the address's window has room. */
  gate: Fragment;
  tail: D1PreparedStatement[];
}

export type SignupOutcome = { kind: "right" } | { kind: "wrong" } | { kind: "limited"; expiresAt: number };

/**
 * One code check as conditional statements of one batch (one transaction). With V "the row exists", F "the address's
 * wrong-code window is full", M "the live row (unexpired, under MAX_CODE_ATTEMPTS) has the given hash":
 * - V and F: the refusal is counted (429), the window's first refusal audited; nothing else;
 * - not F, M: the gated statements run; consume deletes the row last, only if the account's passkey landed;
 * - V, not F, not M: the row's attempt is taken, otp.failed audited, the wrong code counted against the address.
 * The row changes only in the not-M case or last, and the counter only in the not-M case, so F and M hold through.
 */
export function signupCheckStmts(d1: D1Database, c: SignupCheck): SignupCheckStmts {
  const { id, tenantId, workspaceId } = c.ref;
  const valid = sqlOf`EXISTS (SELECT 1 FROM signups WHERE id = ${id} AND tenant_id = ${tenantId} AND workspace_id = ${workspaceId})`;
  const live = sqlOf`id = ${id} AND tenant_id = ${tenantId} AND workspace_id = ${workspaceId} AND expires_at > ${c.now}
    AND attempts < ${literal(MAX_CODE_ATTEMPTS)}`;
  const full = counterFull(c.counter);
  const matches = sqlOf`EXISTS (SELECT 1 FROM signups WHERE ${live} AND code_hash = ${c.given})`;
  const gate = sqlOf`NOT ${full} AND ${matches}`;
  const first = sqlOf`${valid} AND ${firstRefusalOf(c.counter)}`;
  const wrong = sqlOf`${valid} AND NOT ${full} AND NOT ${matches}`;
  return {
    head: [refuseWhen(d1, c.counter, valid), auditIfStmt(d1, c.refusal, c.now, `SELECT 1 WHERE ${first.text}`, [...first.binds])],
    gate,
    tail: [
      prepareFragment(d1, sqlOf`UPDATE signups SET attempts = attempts + 1 WHERE ${live} AND code_hash <> ${c.given} AND NOT ${full}`),
      auditIfStmt(d1, c.failed, c.now, `SELECT 1 WHERE ${wrong.text}`, [...wrong.binds]),
      reserveWhen(d1, c.counter, sqlOf`${valid} AND NOT ${matches}`),
      c.mode === "consume"
        ? prepareFragment(
            d1,
            sqlOf`DELETE FROM signups WHERE ${live} AND code_hash = ${c.given} AND NOT ${full}
              AND EXISTS (SELECT 1 FROM credentials WHERE user_id = ${c.userId} AND type = 'webauthn') RETURNING id`,
          )
        : prepareFragment(d1, sqlOf`SELECT 1 AS ok WHERE ${gate}`),
    ],
  };
}

/** The outcome from the results of a check's head and tail (the gated statements' results left out). */
export function signupOutcome(head: readonly D1Result[], tail: readonly D1Result[]): SignupOutcome {
  const refused = head[0]?.results?.[0] as { expires_at: number } | undefined;
  if (refused) return { kind: "limited", expiresAt: refused.expires_at };
  return (tail.at(-1)?.results?.length ?? 0) > 0 ? { kind: "right" } : { kind: "wrong" };
}

/** The options step: the check on its own, one batch. */
export async function checkSignupCode(d1: D1Database, check: SignupCheckStmts): Promise<SignupOutcome> {
  const all = await d1.batch([...check.head, ...check.tail]);
  return signupOutcome(all.slice(0, check.head.length), all.slice(check.head.length));
}

/**
 * The account of a completed sign-up, for the commit batch of its passkey: the user (active, the row's id and user
 * handle), the address as its email identifier and as a verified address, each only where `gate` holds. An identifier
 * taken meanwhile fails the batch (UNIQUE identifiers), which D1 rolls back whole. `undo` (for the tail) removes the
 * user again, in the same transaction, when its passkey did not land (cascading to identifier and address). `audit`
 * (for the tail, after `undo` and before the row is consumed) records `created` only where the user stayed and `gate`
 * still holds, i.e. this batch made the account: a parallel complete that lost the race finds the user but not the
 * gate, and records nothing.
 */
export function accountStmts(
  d1: D1Database,
  r: SignupRow,
  gate: Fragment,
  created: AuditEvent,
  now: number,
): { insert: D1PreparedStatement[]; undo: D1PreparedStatement; audit: D1PreparedStatement } {
  const made = sqlOf`SELECT 1 FROM users WHERE id = ${r.userId} AND tenant_id = ${r.tenantId} AND (${gate})`;
  return {
    insert: [
      prepareFragment(
        d1,
        sqlOf`INSERT INTO users (id, tenant_id, pool_id, status, user_handle, payload, metadata, created_at, updated_at)
          SELECT ${r.userId}, ${r.tenantId}, ${r.poolId}, 'active', ${r.userHandle}, '{}', '{}', ${now}, ${now} WHERE ${gate}`,
      ),
      prepareFragment(
        d1,
        sqlOf`INSERT INTO identifiers (user_id, tenant_id, pool_id, identifier, identifier_key, type, position)
          SELECT ${r.userId}, ${r.tenantId}, ${r.poolId}, ${r.address}, ${r.addressKey}, 'email', 0 WHERE ${gate}`,
      ),
      prepareFragment(
        d1,
        sqlOf`INSERT INTO verifiable_addresses (user_id, tenant_id, pool_id, address, address_key, type, verified, position)
          SELECT ${r.userId}, ${r.tenantId}, ${r.poolId}, ${r.address}, ${r.addressKey}, 'email', 1, 0 WHERE ${gate}`,
      ),
    ],
    undo: d1
      .prepare(
        "DELETE FROM users WHERE id = ? AND tenant_id = ? AND NOT EXISTS (SELECT 1 FROM credentials WHERE user_id = ? AND type = 'webauthn')",
      )
      .bind(r.userId, r.tenantId, r.userId),
    audit: auditIfStmt(d1, created, now, made.text, [...made.binds]),
  };
}
