/**
 * Passkey rows of the credentials table. Writes that must hold under concurrency are single SQL statements in one
 * D1 batch: the consumed challenge (primary key) and a conditional insert bounded by the user's capacity.
 */
import { and, asc, eq } from "drizzle-orm";
import { orm } from "../db/client";
import { credentials } from "../db/schema";
import { auditIfStmt, type AuditEvent } from "./audit";
import { isUniqueViolation } from "./errors";
import type { CredentialRow } from "./users";

export type { CredentialRow };

export async function userPasskeys(d1: D1Database, tenantId: string, userId: string): Promise<CredentialRow[]> {
  return orm(d1)
    .select()
    .from(credentials)
    .where(and(eq(credentials.tenantId, tenantId), eq(credentials.userId, userId), eq(credentials.type, "webauthn")))
    .orderBy(asc(credentials.createdAt), asc(credentials.id));
}

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

/**
 * One batch: consume the challenge, insert the passkey only while the user is under both limits and the credential
 * id is new in the tenant, and audit only if the row landed.
 */
export async function registerPasskey(
  d1: D1Database,
  consumed: ConsumedChallenge,
  row: CredentialRow,
  limits: { capacity: number; max: number },
  audit: AuditEvent,
  now: number,
): Promise<RegisterOutcome> {
  const insert = d1
    .prepare(
      `INSERT INTO credentials (${COLUMNS.join(", ")}) SELECT ${COLUMNS.map(() => "?").join(", ")}
     WHERE (SELECT count(*) FROM credentials WHERE user_id = ? AND type = 'webauthn') < ?
       AND (SELECT count(*) FROM credentials WHERE user_id = ?) < ?
       AND NOT EXISTS (SELECT 1 FROM credentials WHERE tenant_id = ? AND credential_id = ?)`,
    )
    .bind(...rowValues(row), row.userId, limits.capacity, row.userId, limits.max, row.tenantId, row.credentialId);
  try {
    const [, ins] = await d1.batch([
      consumeChallengeStmt(d1, consumed, now),
      insert,
      auditIfStmt(d1, audit, now, "SELECT 1 FROM credentials WHERE id = ?", [row.id]),
    ]);
    if (ins!.meta.changes === 1) return "registered";
  } catch (e) {
    if (isUniqueViolation(e, "consumed_challenges")) return "challenge_used";
    if (isUniqueViolation(e, "credentials")) return "credential_exists";
    throw e;
  }
  return (await passkeyByCredentialId(d1, row.tenantId, row.credentialId!)) ? "credential_exists" : "limit_reached";
}

/** Deletes one passkey (and audits it) in one batch; false when no such passkey. */
export async function deletePasskey(d1: D1Database, t: PasskeyRef, audit: AuditEvent, now: number): Promise<boolean> {
  const binds = resolvedBinds(t);
  const [, del] = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 FROM credentials WHERE ${RESOLVED}`, binds),
    d1.prepare(`DELETE FROM credentials WHERE ${RESOLVED} RETURNING id`).bind(...binds),
  ]);
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
