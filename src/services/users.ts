/** User operations: identifier rules, password hashing, storage (repo/users). */
import { b64url, newId, randomBytes } from "../crypto/bytes";
import { hashPassword } from "../crypto/password";
import { ApiError, notFound, validationFailed } from "../errors";
import * as userRepo from "../repo/users";
import { endUserOidcSessionsStmts } from "../repo/oidc-sessions";
import { type CredentialRow, IdentifierTaken, type NewUserData, type UserRow, type UserWithData } from "../repo/users";
import { auditStmt } from "../repo/audit";
import type { UserInput, UserUpdate } from "../api/user";
import type { Call } from "./call";
import { getPool } from "./pools";

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

export async function getUser(call: Call, poolId: string, userId: string): Promise<UserWithData> {
  const user = await userRepo.getUser(call.env.DB, call.tenantId, poolId, userId);
  if (!user) throw notFound("user");
  return user;
}

/** The password credential row of a new user. */
function passwordRow(call: Call, poolId: string, userId: string, passwordHash: string): CredentialRow {
  return {
    id: newId(),
    tenantId: call.tenantId,
    poolId,
    userId,
    type: "password",
    state: "valid",
    name: null,
    passwordHash,
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
    createdAt: call.now,
    updatedAt: call.now,
    lastUsedAt: null,
  };
}

export async function createUser(call: Call, poolId: string, input: UserInput): Promise<UserWithData> {
  await getPool(call, poolId);
  const identifiers = identifierRows(input.identifiers);
  const addresses = addressRows(input.verifiable_addresses ?? []);
  const user: UserRow = {
    id: newId(),
    tenantId: call.tenantId,
    poolId,
    status: input.status ?? "active",
    userHandle: b64url(randomBytes(32)),
    payload: input.payload ?? {},
    metadata: input.metadata ?? {},
    createdAt: call.now,
    updatedAt: call.now,
  };
  const password = input.credentials?.[0]?.password;
  const passwordCredential = password === undefined ? undefined : passwordRow(call, poolId, user.id, await hashPassword(password));
  try {
    await userRepo.insertUser(call.env.DB, { user, identifiers, addresses, passwordCredential });
  } catch (e) {
    if (e instanceof IdentifierTaken) throw taken();
    throw e;
  }
  return getUser(call, poolId, user.id);
}

export async function updateUser(call: Call, poolId: string, userId: string, input: UserUpdate): Promise<UserWithData> {
  const current = await getUser(call, poolId, userId);
  const password = input.credentials?.[0]?.password;
  // Deactivation ends the user's provider sessions and refresh tokens (issue 10; deletion does so by cascade) in the
  // update's batch, so no inactive user keeps a live session; also when already inactive (idempotent), audited once.
  const ending =
    input.status === "inactive"
      ? [
          ...endUserOidcSessionsStmts(call.env.DB, call.tenantId, userId, call.now),
          ...(current.status === "active"
            ? [auditStmt(call.env.DB, { tenantId: call.tenantId, poolId, userId, actor: call.actor, type: "user.deactivated" }, call.now)]
            : []),
        ]
      : [];
  try {
    const ok = await userRepo.updateUser(
      call.env.DB,
      current,
      {
        status: input.status,
        payload: input.payload,
        metadata: input.metadata,
        identifiers: input.identifiers && identifierRows(input.identifiers),
        addresses: input.verifiable_addresses && addressRows(input.verifiable_addresses),
        passwordHash: password === undefined ? undefined : { id: newId(), hash: await hashPassword(password) },
      },
      call.now,
      ending,
    );
    if (!ok) throw notFound("user");
  } catch (e) {
    if (e instanceof IdentifierTaken) throw taken();
    throw e;
  }
  return getUser(call, poolId, userId);
}

/** A page of the pool's users, newest first; `search` matches any part of an identifier, case-insensitively. */
export async function listUsers(call: Call, poolId: string, page: { limit: number; offset: number; search?: string }) {
  await getPool(call, poolId);
  const search = page.search === undefined ? undefined : identifierKey(page.search);
  return userRepo.listUsers(call.env.DB, call.tenantId, poolId, { limit: page.limit, offset: page.offset, search: search || undefined });
}

export async function deleteUser(call: Call, poolId: string, userId: string): Promise<void> {
  const audit = { tenantId: call.tenantId, poolId, userId, actor: call.actor, type: "user.deleted" as const };
  if (!(await userRepo.deleteUser(call.env.DB, call.tenantId, poolId, userId, audit, call.now))) throw notFound("user");
}
