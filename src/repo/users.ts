/** Storage of users with their identifiers, addresses and credentials (tables users, identifiers, verifiable_addresses, credentials). */
import { and, asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { BatchItem } from "drizzle-orm/batch";
import { orm, type Query, statementOf } from "../db/client";
import { credentials, identifiers, users, verifiableAddresses } from "../db/schema";
import { type AuditEvent, auditIfStmt } from "./audit";
import { isUniqueViolation } from "./errors";
import { mapped, rowMapper } from "./rows";

export type UserRow = typeof users.$inferSelect;
export type IdentifierRow = typeof identifiers.$inferSelect;
export type AddressRow = typeof verifiableAddresses.$inferSelect;
export type CredentialRow = typeof credentials.$inferSelect;
export type UserWithData = UserRow & { identifiers: IdentifierRow[]; addresses: AddressRow[]; credentials: CredentialRow[] };

export class IdentifierTaken extends Error {}

const scope = (tenantId: string, poolId: string) => and(eq(users.tenantId, tenantId), eq(users.poolId, poolId));

function group<T extends { userId: string }>(rows: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) m.set(r.userId, [...(m.get(r.userId) ?? []), r]);
  return m;
}

// Raw statements prepared from constants: the hot reads build no query per request (issue 11).
const USER_SQL = "SELECT * FROM users WHERE tenant_id = ? AND pool_id = ? AND id = ?";
const USER_ANY_POOL_SQL = "SELECT * FROM users WHERE tenant_id = ? AND id = ?";
const IDENTIFIERS_SQL = "SELECT * FROM identifiers WHERE user_id = ? AND tenant_id = ? ORDER BY position";
const ADDRESSES_SQL = "SELECT * FROM verifiable_addresses WHERE user_id = ? AND tenant_id = ? ORDER BY position";
const CREDENTIALS_SQL = "SELECT * FROM credentials WHERE user_id = ? AND tenant_id = ? ORDER BY created_at, id";

const userRow = rowMapper(users);
const identifierRow = rowMapper(identifiers);
const addressRow = rowMapper(verifiableAddresses);
export const credentialRow = rowMapper(credentials);

/** The four statements of one user with all its data (for a batch of the caller's); poolId undefined: in any pool. */
export function userStmts(d1: D1Database, tenantId: string, poolId: string | undefined, userId: string): D1PreparedStatement[] {
  return [
    poolId === undefined ? d1.prepare(USER_ANY_POOL_SQL).bind(tenantId, userId) : d1.prepare(USER_SQL).bind(tenantId, poolId, userId),
    d1.prepare(IDENTIFIERS_SQL).bind(userId, tenantId),
    d1.prepare(ADDRESSES_SQL).bind(userId, tenantId),
    d1.prepare(CREDENTIALS_SQL).bind(userId, tenantId),
  ];
}

/** The user of userStmts' four results, if it exists. */
export function userOf([u, idents, addrs, creds]: D1Result[]): UserWithData | undefined {
  const [row] = mapped(u, userRow);
  return (
    row && {
      ...row,
      identifiers: mapped(idents, identifierRow),
      addresses: mapped(addrs, addressRow),
      credentials: mapped(creds, credentialRow),
    }
  );
}

/** One user with all its data in one batch (one round trip, whatever the number of passkeys). */
export async function getUser(d1: D1Database, tenantId: string, poolId: string, userId: string): Promise<UserWithData | undefined> {
  return userOf(await d1.batch(userStmts(d1, tenantId, poolId, userId)));
}

export interface UserPage {
  limit: number;
  offset: number;
  /** Normalised (identifierKey) text that one of the user's identifiers must contain. */
  search?: string;
}

/** LIKE pattern matching `text` anywhere, with LIKE's wildcards in it taken literally (ESCAPE '\'). */
const containing = (text: string) => `%${text.replace(/[\\%_]/g, (ch) => `\\${ch}`)}%`;

/**
 * A page of a pool's users with their data, optionally those with a matching identifier: one batch (one round trip)
 * whatever the page size. The child rows select their users through the page query itself, not a list of ids (D1
 * binds at most 100 values per statement).
 */
export async function listUsers(d1: D1Database, tenantId: string, poolId: string, page: UserPage): Promise<UserWithData[]> {
  const db = orm(d1);
  const matching =
    page.search === undefined
      ? undefined
      : sql`exists (select 1 from ${identifiers} where ${identifiers.userId} = ${users.id} and ${identifiers.tenantId} = ${tenantId} and ${identifiers.identifierKey} like ${containing(page.search)} escape '\\')`;
  const where = and(scope(tenantId, poolId), matching);
  const order = [desc(users.createdAt), asc(users.id)] as const;
  const ids = db
    .select({ id: users.id })
    .from(users)
    .where(where)
    .orderBy(...order)
    .limit(page.limit)
    .offset(page.offset);
  const [rows, idents, addrs, creds] = await db.batch([
    db
      .select()
      .from(users)
      .where(where)
      .orderBy(...order)
      .limit(page.limit)
      .offset(page.offset),
    db
      .select()
      .from(identifiers)
      .where(and(eq(identifiers.tenantId, tenantId), inArray(identifiers.userId, ids)))
      .orderBy(asc(identifiers.position)),
    db
      .select()
      .from(verifiableAddresses)
      .where(and(eq(verifiableAddresses.tenantId, tenantId), inArray(verifiableAddresses.userId, ids)))
      .orderBy(asc(verifiableAddresses.position)),
    db
      .select()
      .from(credentials)
      .where(and(eq(credentials.tenantId, tenantId), inArray(credentials.userId, ids)))
      .orderBy(asc(credentials.createdAt), asc(credentials.id)),
  ]);
  const gi = group(idents);
  const ga = group(addrs);
  const gc = group(creds);
  return rows.map((u) => ({ ...u, identifiers: gi.get(u.id) ?? [], addresses: ga.get(u.id) ?? [], credentials: gc.get(u.id) ?? [] }));
}

export interface NewUserData {
  user: UserRow;
  identifiers: Omit<IdentifierRow, "userId" | "tenantId" | "poolId">[];
  addresses: Omit<AddressRow, "userId" | "tenantId" | "poolId">[];
  passwordCredential?: CredentialRow;
}

function childRows(u: UserRow, data: Pick<NewUserData, "identifiers" | "addresses">) {
  const base = { userId: u.id, tenantId: u.tenantId, poolId: u.poolId };
  return { idents: data.identifiers.map((i) => ({ ...base, ...i })), addrs: data.addresses.map((a) => ({ ...base, ...a })) };
}

async function runOrTaken(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch (e) {
    if (isUniqueViolation(e, "identifiers")) throw new IdentifierTaken();
    throw e;
  }
}

/** Inserts a user and its children in one batch (all or nothing); IdentifierTaken on a taken identifier. */
export async function insertUser(d1: D1Database, data: NewUserData): Promise<void> {
  const db = orm(d1);
  const { idents, addrs } = childRows(data.user, data);
  const stmts: BatchItem<"sqlite">[] = [];
  if (idents.length) stmts.push(db.insert(identifiers).values(idents));
  if (addrs.length) stmts.push(db.insert(verifiableAddresses).values(addrs));
  if (data.passwordCredential) stmts.push(db.insert(credentials).values(data.passwordCredential));
  await runOrTaken(() => db.batch([db.insert(users).values(data.user), ...stmts]));
}

export interface UserChanges {
  status?: UserRow["status"];
  payload?: Record<string, unknown>;
  metadata?: Record<string, unknown>;
  identifiers?: NewUserData["identifiers"];
  addresses?: NewUserData["addresses"];
  passwordHash?: { id: string; hash: string };
}

/**
 * Applies an update in one batch, with the caller's `also` (e.g. a deactivation's session ending and audit event), so
 * the change and what comes with it commit together; false when the user is not in this tenant and pool.
 */
export async function updateUser(
  d1: D1Database,
  current: UserRow,
  upd: UserChanges,
  now: number,
  also: D1PreparedStatement[] = [],
): Promise<boolean> {
  const db = orm(d1);
  const { idents, addrs } = childRows(current, { identifiers: upd.identifiers ?? [], addresses: upd.addresses ?? [] });
  const stmts: Query[] = [];
  if (upd.identifiers) {
    stmts.push(db.delete(identifiers).where(eq(identifiers.userId, current.id)));
    if (idents.length) stmts.push(db.insert(identifiers).values(idents));
  }
  if (upd.addresses) {
    stmts.push(db.delete(verifiableAddresses).where(eq(verifiableAddresses.userId, current.id)));
    if (addrs.length) stmts.push(db.insert(verifiableAddresses).values(addrs));
  }
  if (upd.passwordHash) {
    stmts.push(
      db
        .insert(credentials)
        .values({
          id: upd.passwordHash.id,
          tenantId: current.tenantId,
          poolId: current.poolId,
          userId: current.id,
          type: "password",
          passwordHash: upd.passwordHash.hash,
          createdAt: now,
          updatedAt: now,
        })
        .onConflictDoUpdate({
          target: credentials.userId,
          targetWhere: sql`type = 'password'`,
          set: { passwordHash: upd.passwordHash.hash, updatedAt: now },
        }),
    );
  }
  const set = {
    updatedAt: now,
    ...(upd.status && { status: upd.status }),
    ...(upd.payload && { payload: upd.payload }),
    ...(upd.metadata && { metadata: upd.metadata }),
  };
  let changed = 0;
  await runOrTaken(async () => {
    const update = db
      .update(users)
      .set(set)
      .where(and(scope(current.tenantId, current.poolId), eq(users.id, current.id)));
    const [first] = await d1.batch([...[update, ...stmts].map((q) => statementOf(d1, q)), ...also]);
    changed = first?.meta.changes ?? 0;
  });
  return changed === 1;
}

/**
 * Deletes a user (its children, provider sessions, codes and refresh tokens by cascade) and records `audit` in the same
 * batch, the event only when the user existed; false when it did not.
 */
export async function deleteUser(
  d1: D1Database,
  tenantId: string,
  poolId: string,
  userId: string,
  audit: AuditEvent,
  now: number,
): Promise<boolean> {
  const where = "tenant_id = ? AND pool_id = ? AND id = ?";
  const binds = [tenantId, poolId, userId];
  // RETURNING, not meta.changes: D1 counts the rows removed by ON DELETE CASCADE in changes.
  const [, del] = await d1.batch([
    auditIfStmt(d1, audit, now, `SELECT 1 FROM users WHERE ${where}`, binds),
    d1.prepare(`DELETE FROM users WHERE ${where} RETURNING id`).bind(...binds),
  ]);
  return (del?.results.length ?? 0) === 1;
}

/** The id of the user of this pool with that identifier (`key` is services/users identifierKey form), if any. */
export async function findUserIdByIdentifier(d1: D1Database, tenantId: string, poolId: string, key: string): Promise<string | undefined> {
  const row = await orm(d1)
    .select({ userId: identifiers.userId })
    .from(identifiers)
    .where(and(eq(identifiers.tenantId, tenantId), eq(identifiers.poolId, poolId), eq(identifiers.identifierKey, key)))
    .get();
  return row?.userId;
}

/** Ids of the users of this pool that have that address (`key` in identifierKey form) as a verified address. */
export async function findUserIdsByVerifiedAddress(d1: D1Database, tenantId: string, poolId: string, key: string): Promise<string[]> {
  const rows = await orm(d1)
    .selectDistinct({ userId: verifiableAddresses.userId })
    .from(verifiableAddresses)
    .where(
      and(
        eq(verifiableAddresses.tenantId, tenantId),
        eq(verifiableAddresses.poolId, poolId),
        eq(verifiableAddresses.addressKey, key),
        eq(verifiableAddresses.verified, true),
      ),
    )
    .limit(2);
  return rows.map((r) => r.userId);
}

/**
 * A statement returning one row iff the user exists in this pool and is active: tokens of deactivated or deleted users
 * stop working (a bearer token's liveness check, http/bearer.ts).
 */
export const userIsActiveStmt = (d1: D1Database, tenantId: string, poolId: string, userId: string): D1PreparedStatement =>
  d1
    .prepare("SELECT 1 AS ok FROM users WHERE id = ? AND tenant_id = ? AND pool_id = ? AND status = 'active'")
    .bind(userId, tenantId, poolId);
