/** Sign-in queries: users and passkeys looked up across a workspace's pools, and the one-batch commit of an assertion. */
import { auditIfStmt, auditStmt, type AuditEvent } from "./audit";
import { consumeChallengeStmt, type ConsumedChallenge } from "./credentials";
import { isUniqueViolation } from "./errors";

export interface SigninCredential {
  id: string;
  tenantId: string;
  poolId: string;
  userId: string;
  credentialId: string;
  publicKey: string;
  /** COSE algorithm of the public key. */
  algorithm: number | null;
  signCount: number;
  transports: string[];
  backupEligible: boolean;
  /** AAGUID and attestation format recorded at registration (the pool's authenticator policy judges them). */
  aaguid: string | null;
  attestationType: string | null;
  discoverableId: string;
  userHandle: string;
  userStatus: string;
  /** Whether the challenge named in the read is consumed already (a replay), read in the same statement. */
  challengeUsed: boolean;
}

type Row = Record<string, unknown>;
const toCredential = (r: Row): SigninCredential => ({
  id: r.id as string,
  tenantId: r.tenant_id as string,
  poolId: r.pool_id as string,
  userId: r.user_id as string,
  credentialId: r.credential_id as string,
  publicKey: r.public_key as string,
  algorithm: (r.algorithm as number | null) ?? null,
  signCount: r.sign_count as number,
  transports: JSON.parse((r.transports as string | null) ?? "[]") as string[],
  backupEligible: r.backup_eligible === 1,
  aaguid: (r.aaguid as string | null) ?? null,
  attestationType: (r.attestation_type as string | null) ?? null,
  discoverableId: r.discoverable_id as string,
  userHandle: r.user_handle as string,
  userStatus: r.status as string,
  challengeUsed: r.challenge_used === 1,
});

// The statements of the sign-in path are raw SQL from module-level constants: nothing is built per request (issue 11).
// They all run on the primary (plain env.DB, no session): every security decision of sign-in rests on them.

/**
 * The passkey with all its checks need (owner's handle and status, whether the challenge is used up), only among the
 * workspace's pools.
 */
const CREDENTIAL_SQL = `SELECT c.id, c.tenant_id, c.pool_id, c.user_id, c.credential_id, c.public_key, c.algorithm, c.sign_count, c.transports,
  c.backup_eligible, c.aaguid, c.attestation_type, c.discoverable_id, u.user_handle, u.status,
  EXISTS (SELECT 1 FROM consumed_challenges WHERE challenge = ?4) AS challenge_used
  FROM credentials c JOIN users u ON u.id = c.user_id
  JOIN workspace_pools wp ON wp.tenant_id = c.tenant_id AND wp.pool_id = c.pool_id AND wp.workspace_id = ?1
  WHERE c.tenant_id = ?2 AND c.type = 'webauthn' AND c.credential_id = ?3`;

/**
 * A passkey by credential id, only if it belongs to one of the workspace's pools, and whether `challenge` is consumed
 * already: one query. (Single use itself is the commit's: commitAssertion.)
 */
export async function workspaceCredential(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  credentialId: string,
  challenge: string,
): Promise<SigninCredential | null> {
  const r = await d1.prepare(CREDENTIAL_SQL).bind(workspaceId, tenantId, credentialId, challenge).first<Row>();
  return r ? toCredential(r) : null;
}

export interface SigninUser {
  id: string;
  poolId: string;
  status: string;
  passwordHash: string | null;
  /** Credential ids and transports of the user's passkeys, and whether each is discoverable (usable in Smart mode). */
  passkeys: { credentialId: string; transports: string[]; discoverable: boolean }[];
}

/**
 * The user with this identifier key in the workspace's pools (first pool in the workspace's order wins), with its
 * password hash and passkeys: one query.
 */
export async function workspaceUserByIdentifier(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  identifierKey: string,
): Promise<SigninUser | null> {
  const rows = await d1
    .prepare(
      `WITH hit AS (
       SELECT u.id, u.pool_id, u.status FROM identifiers i
       JOIN users u ON u.id = i.user_id
       JOIN workspace_pools wp ON wp.tenant_id = i.tenant_id AND wp.pool_id = i.pool_id AND wp.workspace_id = ?
       WHERE i.tenant_id = ? AND i.identifier_key = ? ORDER BY wp.position LIMIT 1)
     SELECT hit.id, hit.pool_id, hit.status, c.type, c.password_hash, c.credential_id, c.transports, c.discoverable_id
     FROM hit LEFT JOIN credentials c ON c.user_id = hit.id ORDER BY c.created_at, c.id`,
    )
    .bind(workspaceId, tenantId, identifierKey)
    .all<Row>();
  const first = rows.results[0];
  if (!first) return null;
  return {
    id: first.id as string,
    poolId: first.pool_id as string,
    status: first.status as string,
    passwordHash: (rows.results.find((r) => r.type === "password")?.password_hash as string | undefined) ?? null,
    passkeys: rows.results
      .filter((r) => r.type === "webauthn")
      .map((r) => ({
        credentialId: r.credential_id as string,
        transports: JSON.parse((r.transports as string | null) ?? "[]") as string[],
        discoverable: typeof r.discoverable_id === "string" && r.discoverable_id !== "",
      })),
  };
}

/** What a Classic options answer is built from: the user's passkeys, or a decoy's shape for anyone else. */
export type ClassicTarget =
  | { kind: "user"; userId: string; poolId: string; credentialIds: string[] }
  /** Another active user of the workspace with passkeys: its pool and the byte lengths of its credential ids. */
  | { kind: "decoy"; poolId: string; idLengths: number[] }
  | { kind: "none" };

/**
 * One query for Classic options. An active user with passkeys gets its credential ids. For anybody else (an unknown
 * identifier, a user without passkeys, an inactive user) it picks a decoy: the first active user with passkeys in the
 * workspace's pools whose id is at or after `seed` (wrapping around), a stable pseudo-random pick per identifier. The
 * answer then mirrors a real user's pool, passkey count and credential id lengths, so it has the same distribution as
 * real answers.
 */
export async function classicTarget(
  d1: D1Database,
  tenantId: string,
  workspaceId: string,
  identifierKey: string,
  seed: string,
): Promise<ClassicTarget> {
  const rows = await d1
    .prepare(
      `WITH hit AS (
       SELECT u.id, u.pool_id FROM identifiers i
       JOIN users u ON u.id = i.user_id AND u.status = 'active'
       JOIN workspace_pools wp ON wp.tenant_id = i.tenant_id AND wp.pool_id = i.pool_id AND wp.workspace_id = ?1
       WHERE i.tenant_id = ?2 AND i.identifier_key = ?3 ORDER BY wp.position LIMIT 1),
     real AS (SELECT c.credential_id, c.created_at, c.id FROM hit JOIN credentials c ON c.user_id = hit.id AND c.type = 'webauthn'),
     candidates AS (
       SELECT c.user_id FROM credentials c
       JOIN users u ON u.id = c.user_id AND u.status = 'active'
       JOIN workspace_pools wp ON wp.tenant_id = c.tenant_id AND wp.pool_id = c.pool_id AND wp.workspace_id = ?1
       WHERE c.tenant_id = ?2 AND c.type = 'webauthn' AND NOT EXISTS (SELECT 1 FROM real)),
     decoy AS (SELECT coalesce(
       (SELECT user_id FROM candidates WHERE user_id >= ?4 ORDER BY user_id LIMIT 1),
       (SELECT user_id FROM candidates ORDER BY user_id LIMIT 1)) AS id)
     SELECT 'user' AS kind, hit.id AS user_id, hit.pool_id, real.credential_id, NULL AS id_length, real.created_at, real.id AS entry_id
       FROM hit JOIN real
     UNION ALL
     SELECT 'decoy', NULL, c.pool_id, NULL, length(c.credential_id) * 3 / 4, c.created_at, c.id
       FROM decoy JOIN credentials c ON c.user_id = decoy.id AND c.type = 'webauthn'
     ORDER BY 1, 6, 7`,
    )
    .bind(workspaceId, tenantId, identifierKey, seed)
    .all<Row>();
  const first = rows.results[0];
  if (!first) return { kind: "none" };
  if (first.kind === "user") {
    return {
      kind: "user",
      userId: first.user_id as string,
      poolId: first.pool_id as string,
      credentialIds: rows.results.map((r) => r.credential_id as string),
    };
  }
  return { kind: "decoy", poolId: first.pool_id as string, idLengths: rows.results.map((r) => r.id_length as number) };
}

/** The user's passkeys, and whether the transaction's last challenge is consumed (one row even without passkeys). */
const SECOND_FACTOR_SQL = `SELECT EXISTS (SELECT 1 FROM consumed_challenges WHERE challenge = ?3) AS done, c.credential_id
  FROM (SELECT 1) LEFT JOIN credentials c ON c.tenant_id = ?1 AND c.user_id = ?2 AND c.type = 'webauthn'
  ORDER BY c.created_at, c.id`;

/**
 * For a second-factor step: the credential ids of the user's passkeys, and whether `lastChallenge` (the challenge the
 * transaction issued last, "" for none) is consumed, i.e. the transaction is complete and must not be served again.
 */
export async function secondFactorPasskeys(
  d1: D1Database,
  tenantId: string,
  userId: string,
  lastChallenge: string,
): Promise<{ credentialIds: string[]; done: boolean }> {
  const rows = await d1.prepare(SECOND_FACTOR_SQL).bind(tenantId, userId, lastChallenge).all<Row>();
  return {
    credentialIds: rows.results.flatMap((r) => (typeof r.credential_id === "string" ? [r.credential_id] : [])),
    done: rows.results[0]?.done === 1,
  };
}

export interface AssertionUpdate {
  credentialEntryId: string;
  signCount: number;
  backupState: boolean;
  userVerified: boolean;
  /** Set the credential's discoverable_id when it is still empty (a Classic credential used in Smart sign-in). */
  discoverableId?: string;
}

/**
 * One batch: consume the challenge and record the use of the passkey (counter, backup state, last use) with an
 * audit event, and the caller's `also` (a provider session). False when the challenge was already consumed (a
 * replay): nothing is changed then.
 */
export async function commitAssertion(
  d1: D1Database,
  consumed: ConsumedChallenge,
  u: AssertionUpdate,
  audit: AuditEvent,
  now: number,
  also: D1PreparedStatement[] = [],
): Promise<boolean> {
  try {
    await d1.batch([
      consumeChallengeStmt(d1, consumed, now),
      d1
        .prepare(
          `UPDATE credentials SET sign_count = ?, backup_state = ?, user_verified = ?, last_used_at = ?, updated_at = ?,
           discoverable_id = CASE WHEN discoverable_id = '' AND ? IS NOT NULL THEN ? ELSE discoverable_id END
         WHERE id = ?`,
        )
        .bind(
          u.signCount,
          u.backupState ? 1 : 0,
          u.userVerified ? 1 : 0,
          now,
          now,
          u.discoverableId ?? null,
          u.discoverableId ?? null,
          u.credentialEntryId,
        ),
      auditStmt(d1, audit, now),
      ...also,
    ]);
    return true;
  } catch (e) {
    if (isUniqueViolation(e, "consumed_challenges")) return false;
    throw e;
  }
}

/** Flags a possible cloned authenticator (a sign count that did not increase) and audits it. */
export async function flagClone(d1: D1Database, credentialEntryId: string, audit: AuditEvent, now: number): Promise<void> {
  await d1.batch([
    d1.prepare("UPDATE credentials SET clone_warning = 1, updated_at = ? WHERE id = ?").bind(now, credentialEntryId),
    auditIfStmt(d1, audit, now, "SELECT 1 FROM credentials WHERE id = ?", [credentialEntryId]),
  ]);
}

/**
 * Whether any tenant stores a passkey with this credential id (the failure path of a sign-in, for the Signal API): one
 * query, through the (tenant_id, credential_id) index once per tenant.
 */
export async function credentialIdStored(d1: D1Database, credentialId: string): Promise<boolean> {
  const r = await d1
    .prepare("SELECT 1 AS found FROM credentials WHERE tenant_id IN (SELECT id FROM tenants) AND credential_id = ? LIMIT 1")
    .bind(credentialId)
    .first<Row>();
  return r !== null;
}
