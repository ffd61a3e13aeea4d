/** User operations: identifier rules, password hashing, storage (repo/users). */
import { b64url, newId, randomBytes } from "../crypto/bytes";
import { hashPassword } from "../crypto/password";
import { ApiError, notFound, validationFailed } from "../errors";
import {
  deleteUser,
  getUser,
  IdentifierTaken,
  insertUser,
  listUsers,
  updateUser,
  type NewUserData,
  type UserRow,
  type UserWithData,
} from "../repo/users";
import { recordAudit } from "../repo/audit";
import type { UserInput, UserUpdate } from "../api/user";
import { requirePool } from "./pools";

type IdentifierIn = UserInput["identifiers"][number];
type AddressIn = NonNullable<UserInput["verifiable_addresses"]>[number];

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const MOBILE = /^\+[1-9][0-9]{6,14}$/;
const CONTROL = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

/** Identifiers compare case-insensitively, after NFC normalisation. */
export const identifierKey = (s: string) => s.trim().normalize("NFC").toLowerCase();

function badField(field: string, message: string): ApiError {
  return validationFailed("json", [{ field, message }], message);
}

function formatError(kind: string, value: string): string | null {
  if (CONTROL.test(value)) return "must not contain control characters";
  if (kind === "email" && !EMAIL.test(value)) return "must be an email address";
  if (kind === "mobile" && !MOBILE.test(value)) return "must be a phone number in E.164 form, e.g. +14155550100";
  return null;
}

function identifierRows(list: IdentifierIn[]): NewUserData["identifiers"] {
  const seen = new Set<string>();
  return list.map((i, position) => {
    const value = i.identifier.trim().normalize("NFC");
    const err = formatError(i.type, value);
    if (err) throw badField(`identifiers.${position}.identifier`, `identifier ${err}`);
    const key = identifierKey(value);
    if (seen.has(key)) throw badField(`identifiers.${position}.identifier`, "identifier is listed twice");
    seen.add(key);
    return { identifier: value, identifierKey: key, type: i.type, position };
  });
}

function addressRows(list: AddressIn[]): NewUserData["addresses"] {
  const seen = new Set<string>();
  return list.map((a, position) => {
    const value = a.address.trim().normalize("NFC");
    const err = formatError(a.type, value);
    if (err) throw badField(`verifiable_addresses.${position}.address`, `address ${err}`);
    const key = `${a.type}:${identifierKey(value)}`;
    if (seen.has(key)) throw badField(`verifiable_addresses.${position}.address`, "address is listed twice");
    seen.add(key);
    return { address: value, addressKey: identifierKey(value), type: a.type, verified: a.verified ?? false, position };
  });
}

const taken = () =>
  new ApiError("identifier_taken", "an identifier is already used by another user of this pool", { field: "identifiers" });

export async function requireUser(d1: D1Database, tenantId: string, poolId: string, userId: string): Promise<UserWithData> {
  const user = await getUser(d1, tenantId, poolId, userId);
  if (!user) throw notFound("user");
  return user;
}

export async function createUser(d1: D1Database, tenantId: string, poolId: string, input: UserInput, now: number) {
  await requirePool(d1, tenantId, poolId);
  const identifiers = identifierRows(input.identifiers);
  const addresses = addressRows(input.verifiable_addresses ?? []);
  const user: UserRow = {
    id: newId(),
    tenantId,
    poolId,
    status: input.status ?? "active",
    userHandle: b64url(randomBytes(32)),
    payload: input.payload ?? {},
    metadata: input.metadata ?? {},
    createdAt: now,
    updatedAt: now,
  };
  const password = input.credentials?.[0]?.password;
  const passwordCredential =
    password === undefined
      ? undefined
      : {
          id: newId(),
          tenantId,
          poolId,
          userId: user.id,
          type: "password" as const,
          state: "valid",
          name: null,
          passwordHash: await hashPassword(password),
          credentialId: null,
          publicKey: null,
          algorithm: null,
          signCount: 0,
          transports: null,
          aaguid: null,
          authenticatorName: null,
          attachment: null,
          userPresent: null,
          userVerified: null,
          backupEligible: null,
          backupState: null,
          attestationType: null,
          discoverableId: "",
          cloneWarning: false,
          createdAt: now,
          updatedAt: now,
          lastUsedAt: null,
        };
  try {
    await insertUser(d1, { user, identifiers, addresses, passwordCredential });
  } catch (e) {
    if (e instanceof IdentifierTaken) throw taken();
    throw e;
  }
  return requireUser(d1, tenantId, poolId, user.id);
}

export async function changeUser(
  d1: D1Database,
  tenantId: string,
  poolId: string,
  userId: string,
  input: UserUpdate,
  now: number,
  actor: string,
) {
  const current = await requireUser(d1, tenantId, poolId, userId);
  const password = input.credentials?.[0]?.password;
  try {
    const ok = await updateUser(
      d1,
      current,
      {
        status: input.status,
        payload: input.payload,
        metadata: input.metadata,
        identifiers: input.identifiers && identifierRows(input.identifiers),
        addresses: input.verifiable_addresses && addressRows(input.verifiable_addresses),
        passwordHash: password === undefined ? undefined : { id: newId(), hash: await hashPassword(password) },
      },
      now,
    );
    if (!ok) throw notFound("user");
  } catch (e) {
    if (e instanceof IdentifierTaken) throw taken();
    throw e;
  }
  if (current.status === "active" && input.status === "inactive") {
    await recordAudit(d1, { tenantId, poolId, userId, actor, type: "user.deactivated" }, now);
  }
  return requireUser(d1, tenantId, poolId, userId);
}

/** A page of the pool's users, newest first; `search` matches any part of an identifier, case-insensitively. */
export async function listPoolUsers(d1: D1Database, tenantId: string, poolId: string, page: { limit: number; offset: number; search?: string }) {
  await requirePool(d1, tenantId, poolId);
  const search = page.search === undefined ? undefined : identifierKey(page.search);
  return listUsers(d1, tenantId, poolId, { limit: page.limit, offset: page.offset, search: search || undefined });
}

export async function removeUser(d1: D1Database, tenantId: string, poolId: string, userId: string, now: number, actor: string) {
  if (!(await deleteUser(d1, tenantId, poolId, userId))) throw notFound("user");
  await recordAudit(d1, { tenantId, poolId, userId, actor, type: "user.deleted" }, now);
}
