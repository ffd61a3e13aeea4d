/**
 * Passkey rows of the credentials table. Writes that must hold under concurrency are single SQL statements in one
 * D1 batch: the consumed challenge (primary key) and a conditional insert bounded by the user's capacity.
 */
import { and, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { credentials, pools } from "../db/schema";
import { auditIfStmt, type AuditEvent } from "./audit";
import { Fragment, prepareFragment, sqlOf } from "./counters";
import { isUniqueViolation } from "./errors";
import { endUserOidcSessionsStmts } from "./oidc-sessions";
import type { PoolRow } from "./pools";
import { mapped, rowMapper } from "./rows";
import { type CredentialRow, credentialRow, type UserWithData, userOf, userStmts } from "./users";

export type { CredentialRow };

export async function passkeyByCredentialId(d1: D1Database, tenantId: string, credentialId: string): Promise<CredentialRow | undefined> {
  return orm(d1)
    .select()
    .from(credentials)
    .where(and(eq(credentials.tenantId, tenantId), eq(credentials.credentialId, credentialId)))
    .get();
}

export interface PasskeyRef {
  tenantId: string;
  poolId: string;
  userId: string;
  /** The passkey's entry id or its base64url credential id (api.md "Passkey references"). */
  ref: string;
}

/**
 * The one row a reference names: the user's passkey whose entry id is `ref`, else the user's passkey whose credential id
 * is `ref`. An authenticator chooses its credential id freely, so it may equal another entry's id: the entry id wins,
 * and every read and write below is limited to the single row this resolves to.
 */
const RESOLVED = `tenant_id = ? AND pool_id = ? AND user_id = ? AND type = 'webauthn' AND id = coalesce(
  (SELECT id FROM credentials WHERE id = ? AND tenant_id = ? AND pool_id = ? AND user_id = ? AND type = 'webauthn'),
  (SELECT id FROM credentials WHERE tenant_id = ? AND credential_id = ? AND pool_id = ? AND user_id = ? AND type = 'webauthn'))`;

const resolvedBinds = (t: PasskeyRef) => [
  t.tenantId,
  t.poolId,
  t.userId,
  t.ref,
  t.tenantId,
  t.poolId,
  t.userId,
  t.tenantId,
  t.ref,
  t.poolId,
  t.userId,
];

/** A user's passkey by reference (entry id first, then credential id): at most one row. */
export async function userPasskey(d1: D1Database, t: PasskeyRef): Promise<{ id: string } | null> {
  return d1
    .prepare(`SELECT id FROM credentials WHERE ${RESOLVED}`)
    .bind(...resolvedBinds(t))
    .first<{ id: string }>();
}

const POOL_SQL = "SELECT * FROM pools WHERE tenant_id = ? AND id = ?";
const WORKSPACE_MECHANISMS_SQL = "SELECT authentication_mechanisms FROM workspaces WHERE tenant_id = ? AND id = ?";
const TAKEN_SQL = "SELECT 1 AS taken FROM credentials WHERE tenant_id = ? AND credential_id = ?";
const CONSUMED_SQL = "SELECT 1 AS used FROM consumed_challenges WHERE challenge = ?";
const poolRow = rowMapper(pools);

/** What a registration ceremony reads before it writes: everything in one batch (one round trip). */
export interface Enrollee {
  pool: PoolRow | undefined;
  /** The user with its identifiers, addresses and credentials (excludeCredentials, the answer of complete). */
  user: UserWithData | undefined;
  /** The workspace's mechanisms, when a workspace was asked for and exists (self-service checks its mode). */
  workspaceMechanisms?: string[] | undefined;
  /** Whether a credential with the asked credential id exists in the tenant already (complete's duplicate check). */
  credentialTaken?: boolean;
  /** Whether the asked challenge is consumed already (complete's early single-use check; the batch is the authority). */
  challengeUsed?: boolean;
  /** The results of the caller's `extra` statements, run last in the same batch (a one-time code check). */
  extra?: D1Result[];
}

/** What complete asks of the read besides the subject: the response's credential id and challenge. */
export interface CompletionAsk {
  credentialId?: string;
  challenge?: string;
}

function askStmts(d1: D1Database, tenantId: string, q: CompletionAsk): D1PreparedStatement[] {
  const stmts: D1PreparedStatement[] = [];
  if (q.credentialId !== undefined) stmts.push(d1.prepare(TAKEN_SQL).bind(tenantId, q.credentialId));
  if (q.challenge !== undefined) stmts.push(d1.prepare(CONSUMED_SQL).bind(q.challenge));
  return stmts;
}

function answers(q: CompletionAsk, rest: D1Result[]): Pick<Enrollee, "credentialTaken" | "challengeUsed"> {
  const found = () => (rest.shift()?.results?.length ?? 0) > 0;
  const a: Pick<Enrollee, "credentialTaken" | "challengeUsed"> = {};
  if (q.credentialId !== undefined) a.credentialTaken = found();
  if (q.challenge !== undefined) a.challengeUsed = found();
  return a;
}

export async function readEnrollee(
  d1: D1Database,
  q: { tenantId: string; poolId: string; userId: string; workspaceId?: string } & CompletionAsk,
  extra: D1PreparedStatement[] = [],
): Promise<Enrollee> {
  const stmts = [d1.prepare(POOL_SQL).bind(q.tenantId, q.poolId), ...userStmts(d1, q.tenantId, q.poolId, q.userId)];
  if (q.workspaceId !== undefined) stmts.push(d1.prepare(WORKSPACE_MECHANISMS_SQL).bind(q.tenantId, q.workspaceId));
  stmts.push(...askStmts(d1, q.tenantId, q), ...extra);
  const all = await d1.batch(stmts);
  const tail = extra.length ? all.splice(all.length - extra.length) : [];
  const [pool, u, idents, addrs, creds, ...rest] = all;
  const e: Enrollee = { pool: mapped(pool, poolRow)[0], user: userOf([u!, idents!, addrs!, creds!]) };
  if (q.workspaceId !== undefined) {
    const ws = rest.shift()?.results?.[0] as { authentication_mechanisms: string } | undefined;
    e.workspaceMechanisms = ws && (JSON.parse(ws.authentication_mechanisms) as string[]);
  }
  return { ...e, ...answers(q, rest), ...(extra.length > 0 && { extra: tail }) };
}

const LINK_POOL_SQL = `SELECT p.* FROM pools p
  JOIN users u ON u.tenant_id = p.tenant_id AND u.pool_id = p.id
  JOIN workspace_pools wp ON wp.tenant_id = p.tenant_id AND wp.pool_id = p.id
  WHERE u.tenant_id = ? AND u.id = ? AND wp.workspace_id = ?`;

/**
 * An enrollment link's subject in one batch: the workspace's mechanisms, and the user's pool and the user when that
 * pool is one of the workspace's (pool undefined otherwise), and complete's checks when asked; `extra` statements
 * (the code check of options) run last in the same batch.
 */
export async function readLinkEnrollee(
  d1: D1Database,
  q: { tenantId: string; workspaceId: string; userId: string } & CompletionAsk,
  extra: D1PreparedStatement[] = [],
): Promise<Enrollee> {
  const stmts = [
    d1.prepare(LINK_POOL_SQL).bind(q.tenantId, q.userId, q.workspaceId),
    d1.prepare(WORKSPACE_MECHANISMS_SQL).bind(q.tenantId, q.workspaceId),
    ...userStmts(d1, q.tenantId, undefined, q.userId),
  ];
  stmts.push(...askStmts(d1, q.tenantId, q), ...extra);
  const all = await d1.batch(stmts);
  const tail = extra.length ? all.splice(all.length - extra.length) : [];
  const [pool, ws, u, idents, addrs, creds, ...rest] = all;
  const mechanisms = ws?.results?.[0] as { authentication_mechanisms: string } | undefined;
  return {
    pool: mapped(pool, poolRow)[0],
    user: userOf([u!, idents!, addrs!, creds!]),
    workspaceMechanisms: mechanisms && (JSON.parse(mechanisms.authentication_mechanisms) as string[]),
    ...answers(q, rest),
    ...(extra.length > 0 && { extra: tail }),
  };
}

export interface ConsumedChallenge {
  challenge: string;
  tenantId: string;
  purpose: string;
  expiresAt: number;
}

export function consumeChallengeStmt(d1: D1Database, c: ConsumedChallenge, now: number): D1PreparedStatement {
  return d1
    .prepare("INSERT INTO consumed_challenges (challenge, tenant_id, purpose, consumed_at, expires_at) VALUES (?, ?, ?, ?, ?)")
    .bind(c.challenge, c.tenantId, c.purpose, now, c.expiresAt);
}

/**
 * A check that the commit batch runs with the ceremony's writes (the one-time code's, repo/codes.ts): `head` runs
 * first, then the writes, only where `gate` holds (SQL, read in the same transaction), then `tail`.
 */
export interface CommitGate {
  head: D1PreparedStatement[];
  gate: Fragment;
  tail: D1PreparedStatement[];
}

const COLUMNS = [
  "id",
  "tenant_id",
  "pool_id",
  "user_id",
  "type",
  "state",
  "name",
  "credential_id",
  "public_key",
  "algorithm",
  "sign_count",
  "transports",
  "aaguid",
  "authenticator_name",
  "attachment",
  "user_present",
  "user_verified",
  "backup_eligible",
  "backup_state",
  "attestation_type",
  "discoverable_id",
  "clone_warning",
  "created_at",
  "updated_at",
  "last_used_at",
] as const;

function rowValues(r: CredentialRow): unknown[] {
  const b = (v: boolean | null) => (v === null ? null : v ? 1 : 0);
  return [
    r.id,
    r.tenantId,
    r.poolId,
    r.userId,
    r.type,
    r.state,
    r.name,
    r.credentialId,
    r.publicKey,
    r.algorithm,
    r.signCount,
    JSON.stringify(r.transports ?? []),
    r.aaguid,
    r.authenticatorName,
    r.attachment,
    b(r.userPresent),
    b(r.userVerified),
    b(r.backupEligible),
    b(r.backupState),
    r.attestationType,
    r.discoverableId,
    b(r.cloneWarning),
    r.createdAt,
    r.updatedAt,
    r.lastUsedAt,
  ];
}

export type RegisterOutcome = "registered" | "challenge_used" | "credential_exists" | "limit_reached";

const INSERT_UNDER_LIMITS = `INSERT INTO credentials (${COLUMNS.join(", ")}) SELECT ${COLUMNS.map(() => "?").join(", ")}
     WHERE (SELECT count(*) FROM credentials WHERE user_id = ? AND type = 'webauthn') < ?
       AND (SELECT count(*) FROM credentials WHERE user_id = ?) < ?
       AND NOT EXISTS (SELECT 1 FROM credentials WHERE tenant_id = ? AND credential_id = ?)`;
const TAKEN_BY_OTHER_SQL = "SELECT 1 AS taken FROM credentials WHERE tenant_id = ? AND credential_id = ? AND id <> ?";
const PASSKEYS_SQL = "SELECT * FROM credentials WHERE user_id = ? AND tenant_id = ? AND type = 'webauthn' ORDER BY created_at, id";

/**
 * One batch (one round trip): consume the challenge, insert the passkey only while the user is under both limits and
 * the credential id is new in the tenant, audit only if the row landed, then read back why not (the id taken) and the
 * user's passkeys as they are after the insert (the answer of complete). With a gate (a one-time code's check), its
 * statements frame these, the challenge's consumption and the insert happen only where the gate holds, and the
 * gate's results are returned for the caller to read.
 */
export async function registerPasskey(
  d1: D1Database,
  consumed: ConsumedChallenge,
  row: CredentialRow,
  limits: { capacity: number; max: number },
  audit: AuditEvent,
  now: number,
  gated?: CommitGate,
): Promise<{ outcome: RegisterOutcome; passkeys: CredentialRow[]; gate?: { head: D1Result[]; tail: D1Result[] } }> {
  const binds = [...rowValues(row), row.userId, limits.capacity, row.userId, limits.max, row.tenantId, row.credentialId];
  const consume = [consumed.challenge, consumed.tenantId, consumed.purpose, now, consumed.expiresAt];
  const stmts = [
    ...(gated?.head ?? []),
    gated
      ? prepareFragment(
          d1,
          sqlOf`INSERT INTO consumed_challenges (challenge, tenant_id, purpose, consumed_at, expires_at)
            SELECT ${new Fragment("?, ?, ?, ?, ?", consume)} WHERE ${gated.gate}`,
        )
      : consumeChallengeStmt(d1, consumed, now),
    gated
      ? prepareFragment(d1, sqlOf`${new Fragment(INSERT_UNDER_LIMITS, binds)} AND ${gated.gate}`)
      : d1.prepare(INSERT_UNDER_LIMITS).bind(...binds),
    auditIfStmt(d1, audit, now, "SELECT 1 FROM credentials WHERE id = ?", [row.id]),
    d1.prepare(TAKEN_BY_OTHER_SQL).bind(row.tenantId, row.credentialId, row.id),
    d1.prepare(PASSKEYS_SQL).bind(row.userId, row.tenantId),
    ...(gated?.tail ?? []),
  ];
  try {
    const all = await d1.batch(stmts);
    const head = all.splice(0, gated?.head.length ?? 0);
    const [, ins, , taken, passkeys, ...tail] = all;
    const outcome = ins!.meta.changes === 1 ? "registered" : (taken!.results?.length ?? 0) > 0 ? "credential_exists" : "limit_reached";
    return { outcome, passkeys: mapped(passkeys, credentialRow), ...(gated && { gate: { head, tail } }) };
  } catch (e) {
    if (isUniqueViolation(e, "consumed_challenges")) return { outcome: "challenge_used", passkeys: [] };
    if (isUniqueViolation(e, "credentials")) return { outcome: "credential_exists", passkeys: [] };
    throw e;
  }
}

/**
 * Deletes one passkey (an administrator's delete, which may take the last one) and audits it in one batch; when it is
 * the user's last passkey, the same batch ends the user's provider sessions and refresh tokens (without a passkey the
 * user cannot prove what they claim). False when no such passkey.
 */
export async function deletePasskey(d1: D1Database, t: PasskeyRef, audit: AuditEvent, now: number): Promise<boolean> {
  const binds = resolvedBinds(t);
  const last = {
    sql: `EXISTS (SELECT 1 FROM credentials WHERE ${RESOLVED})
      AND (SELECT count(*) FROM credentials WHERE user_id = ? AND type = 'webauthn') = 1`,
    binds: [...binds, t.userId],
  };
  const results = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 FROM credentials WHERE ${RESOLVED}`, binds),
    ...endUserOidcSessionsStmts(d1, t.tenantId, t.userId, now, last),
    d1.prepare(`DELETE FROM credentials WHERE ${RESOLVED} RETURNING id`).bind(...binds),
  ]);
  const del = results.at(-1);
  return (del!.results?.length ?? 0) === 1;
}

/**
 * Deletes a passkey only if the user keeps at least one other: a single conditional DELETE, so two parallel
 * deletes of a user's last two passkeys leave one. Returns "deleted", "last" or "missing".
 */
export async function deletePasskeyKeepingOne(
  d1: D1Database,
  t: PasskeyRef,
  audit: AuditEvent,
  now: number,
): Promise<"deleted" | "last" | "missing"> {
  const binds = [...resolvedBinds(t), t.userId];
  const others = "(SELECT count(*) FROM credentials WHERE user_id = ? AND type = 'webauthn') > 1";
  const [, del] = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 FROM credentials WHERE ${RESOLVED} AND ${others}`, binds),
    d1.prepare(`DELETE FROM credentials WHERE ${RESOLVED} AND ${others} RETURNING id`).bind(...binds),
  ]);
  if ((del!.results?.length ?? 0) === 1) return "deleted";
  return (await userPasskey(d1, t)) ? "last" : "missing";
}

/** Renames a passkey (and audits it) in one batch; false when no such passkey. */
export async function renamePasskey(d1: D1Database, t: PasskeyRef, name: string, audit: AuditEvent, now: number): Promise<boolean> {
  const binds = resolvedBinds(t);
  const [, upd] = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 FROM credentials WHERE ${RESOLVED}`, binds),
    d1.prepare(`UPDATE credentials SET name = ?, updated_at = ? WHERE ${RESOLVED}`).bind(name, now, ...binds),
  ]);
  return upd!.meta.changes === 1;
}
