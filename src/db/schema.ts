/**
 * D1 schema. Times are integers (milliseconds since the epoch, UTC); lists and free-form objects are JSON text.
 * Every row carries its tenant_id so that every query can be scoped by tenant. See docs/storage.md.
 */
import { sql } from "drizzle-orm";
import type { JWK } from "jose";
import { foreignKey, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";
import { MECHANISMS, type Mechanism } from "../domain/mechanisms";
import {
  type Acr,
  ADDRESS_TYPES,
  ATTESTATION,
  CHALLENGE_PURPOSES,
  CREDENTIAL_TYPES,
  ID_TOKEN_ALGS,
  IDENTIFIER_TYPES,
  type OidcGrantType,
  SIGNING_KEY_STATUSES,
  TOKEN_AUTH_METHODS,
  USER_STATUSES,
  USER_VERIFICATION,
} from "../domain/vocabulary";

export const tenants = sqliteTable("tenants", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  createdAt: integer("created_at").notNull(),
});

export const pools = sqliteTable(
  "pools",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    name: text("name").notNull(),
    description: text("description").notNull().default(""),
    mechanisms: text("authentication_mechanisms", { mode: "json" }).$type<Mechanism[]>().notNull(),
    preferredMechanism: text("preferred_authentication_mechanism", { enum: MECHANISMS }).notNull(),
    secondFactorMechanisms: text("second_factor_authentication_mechanisms", { mode: "json" }).$type<Mechanism[]>().notNull(),
    /** "" when the pool has no second factor. */
    secondFactorPreferred: text("second_factor_preferred_authentication_mechanism").$type<Mechanism | "">().notNull().default(""),
    rpId: text("relying_party_id").notNull().default(""),
    rpOrigins: text("relying_party_origins", { mode: "json" }).$type<string[]>().notNull(),
    userVerification: text("user_verification", { enum: USER_VERIFICATION }).notNull().default("required"),
    attestation: text("attestation", { enum: ATTESTATION }).notNull().default("none"),
    maxCredentials: integer("max_credentials").notNull().default(100),
    webauthnCapacity: integer("webauthn_credentials_capacity").notNull().default(10),
    /** Abuse limits (src/domain/limits.ts): wrong passwords per identifier per 15 minutes, codes per user per hour and day. */
    passwordFailures: integer("password_failures").notNull().default(5),
    otpRequestsPerHour: integer("otp_requests_per_hour").notNull().default(5),
    otpFailuresPerDay: integer("otp_failures_per_day").notNull().default(10),
    otpSettings: text("otp_settings", { mode: "json" }).$type<OtpSettings>().notNull(),
    /** Self-service on the hosted pages: passkey sign-up, recovery by a code to a verified address, passkey upgrade. */
    signUp: integer("sign_up", { mode: "boolean" }).notNull().default(false),
    recovery: integer("recovery", { mode: "boolean" }).notNull().default(true),
    passkeyUpgrade: integer("passkey_upgrade", { mode: "boolean" }).notNull().default(false),
    /** Authenticator policy: refuse backup-eligible (synced) passkeys; AAGUID allow or deny list (lowercase UUIDs). */
    deviceBoundOnly: integer("device_bound_only", { mode: "boolean" }).notNull().default(false),
    aaguidAllow: text("aaguid_allow", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    aaguidDeny: text("aaguid_deny", { mode: "json" }).$type<string[]>().notNull().default(sql`'[]'`),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] }), index("pools_relying_party_id").on(t.rpId)],
);

export type OtpSettings = { enroll_webauthn: { length: number; ttl: string } };

export const workspaces = sqliteTable(
  "workspaces",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    id: text("id").notNull(),
    name: text("name").notNull(),
    mechanisms: text("authentication_mechanisms", { mode: "json" }).$type<Mechanism[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.id] })],
);

/** Which pools a workspace signs users in from, in order. */
export const workspacePools = sqliteTable(
  "workspace_pools",
  {
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    poolId: text("pool_id").notNull(),
    position: integer("position").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.workspaceId, t.poolId] }), index("workspace_pools_pool").on(t.tenantId, t.poolId)],
);

export const users = sqliteTable(
  "users",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id").notNull(),
    status: text("status", { enum: USER_STATUSES }).notNull().default("active"),
    /** WebAuthn user handle: 32 random bytes (base64url), made once per user, never the user id. */
    userHandle: text("user_handle").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("users_pool").on(t.tenantId, t.poolId, t.createdAt), uniqueIndex("users_handle").on(t.userHandle)],
);

export const identifiers = sqliteTable(
  "identifiers",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id").notNull(),
    identifier: text("identifier").notNull(),
    /** Lower-cased, NFC-normalised form: identifiers are unique per pool case-insensitively. */
    identifierKey: text("identifier_key").notNull(),
    type: text("type", { enum: IDENTIFIER_TYPES }).notNull(),
    position: integer("position").notNull(),
  },
  (t) => [uniqueIndex("identifiers_pool_key").on(t.tenantId, t.poolId, t.identifierKey), index("identifiers_user").on(t.userId)],
);

export const verifiableAddresses = sqliteTable(
  "verifiable_addresses",
  {
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id").notNull(),
    address: text("address").notNull(),
    addressKey: text("address_key").notNull(),
    type: text("type", { enum: ADDRESS_TYPES }).notNull(),
    verified: integer("verified", { mode: "boolean" }).notNull().default(false),
    position: integer("position").notNull(),
  },
  (t) => [
    uniqueIndex("addresses_user_key").on(t.userId, t.type, t.addressKey),
    index("addresses_pool_key").on(t.tenantId, t.poolId, t.addressKey),
  ],
);

/** Password and passkey credentials. Password rows carry only password_hash; passkey rows the WebAuthn columns. */
export const credentials = sqliteTable(
  "credentials",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    type: text("type", { enum: CREDENTIAL_TYPES }).notNull(),
    state: text("state").notNull().default("valid"),
    name: text("name"),
    passwordHash: text("password_hash"),
    credentialId: text("credential_id"),
    publicKey: text("public_key"),
    algorithm: integer("algorithm"),
    signCount: integer("sign_count").notNull().default(0),
    transports: text("transports", { mode: "json" }).$type<string[]>(),
    aaguid: text("aaguid"),
    authenticatorName: text("authenticator_name"),
    attachment: text("attachment"),
    userPresent: integer("user_present", { mode: "boolean" }),
    userVerified: integer("user_verified", { mode: "boolean" }),
    backupEligible: integer("backup_eligible", { mode: "boolean" }),
    backupState: integer("backup_state", { mode: "boolean" }),
    attestationType: text("attestation_type"),
    discoverableId: text("discoverable_id").notNull().default(""),
    cloneWarning: integer("clone_warning", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
    lastUsedAt: integer("last_used_at"),
  },
  (t) => [
    uniqueIndex("credentials_tenant_credential_id").on(t.tenantId, t.credentialId),
    uniqueIndex("credentials_one_password").on(t.userId).where(sql`type = 'password'`),
    index("credentials_user").on(t.userId, t.type),
  ],
);

/** System (client-credentials) clients beyond the bootstrap one. Only a SHA-256 of the secret is kept. */
export const systemClients = sqliteTable(
  "system_clients",
  {
    tenantId: text("tenant_id")
      .notNull()
      .references(() => tenants.id, { onDelete: "cascade" }),
    clientId: text("client_id").notNull(),
    secretHash: text("secret_hash").notNull(),
    scopes: text("scopes").notNull(),
    name: text("name").notNull().default(""),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.clientId] })],
);

/** ES256 signing keys per tenant. The private JWK is AES-GCM encrypted with a key derived from KEY_ENCRYPTION_SECRET. */
export const signingKeys = sqliteTable(
  "signing_keys",
  {
    kid: text("kid").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    alg: text("alg").notNull(),
    publicJwk: text("public_jwk", { mode: "json" }).$type<JWK>().notNull(),
    privateJwkEnc: text("private_jwk_enc").notNull(),
    status: text("status", { enum: SIGNING_KEY_STATUSES }).notNull().default("active"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("signing_keys_tenant").on(t.tenantId, t.status, t.createdAt)],
);

/** One live code per (user, purpose): a new request replaces the previous code. Only a hash is stored. */
export const oneTimeCodes = sqliteTable(
  "one_time_codes",
  {
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    purpose: text("purpose").notNull(),
    codeHash: text("code_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.purpose] }), index("one_time_codes_expiry").on(t.expiresAt)],
);

/**
 * Pending passkey sign-ups (src/repo/signups.ts): an address proving itself with a one-time code (only its HMAC is
 * kept; an address that has an account gets a hash no code matches), the id and WebAuthn user handle the account will
 * have, and the code's attempts. Deleted in the batch that creates the account; expired rows are purged by requests.
 */
export const signups = sqliteTable(
  "signups",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    poolId: text("pool_id").notNull(),
    address: text("address").notNull(),
    addressKey: text("address_key").notNull(),
    userId: text("user_id").notNull(),
    userHandle: text("user_handle").notNull(),
    codeHash: text("code_hash").notNull(),
    attempts: integer("attempts").notNull().default(0),
    expiresAt: integer("expires_at").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("signups_expiry").on(t.expiresAt)],
);

/** Consumed ceremony challenges: the primary key makes each challenge single-use under concurrency. */
export const consumedChallenges = sqliteTable(
  "consumed_challenges",
  {
    challenge: text("challenge").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    purpose: text("purpose", { enum: CHALLENGE_PURPOSES }).notNull(),
    consumedAt: integer("consumed_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [index("consumed_challenges_expiry").on(t.expiresAt)],
);

export const auditEvents = sqliteTable(
  "audit_events",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    poolId: text("pool_id"),
    userId: text("user_id"),
    actor: text("actor").notNull(),
    type: text("type").notNull(),
    details: text("details", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("audit_events_tenant").on(t.tenantId, t.createdAt), index("audit_events_user").on(t.tenantId, t.userId, t.createdAt)],
);

/**
 * Fixed-window abuse counters (src/repo/counters.ts): one row per (tenant, key), e.g. `pwd:<pool>:<identifier key>`.
 * `count` is changed only by single conditional statements, so parallel requests cannot exceed a limit; `refused`
 * counts the requests refused in the window (the first refusal is audited). Expired rows are purged by the cron.
 */
export const rateCounters = sqliteTable(
  "rate_counters",
  {
    tenantId: text("tenant_id").notNull(),
    key: text("key").notNull(),
    windowStart: integer("window_start").notNull(),
    count: integer("count").notNull().default(0),
    refused: integer("refused").notNull().default(0),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.tenantId, t.key] }), index("rate_counters_expiry").on(t.expiresAt)],
);

/** Development outbox: one-time codes "sent" while ENVIRONMENT=development. */
export const outbox = sqliteTable(
  "outbox",
  {
    id: text("id").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    to: text("to").notNull(),
    purpose: text("purpose").notNull(),
    code: text("code").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("outbox_tenant").on(t.tenantId, t.createdAt)],
);

/**
 * OpenID Connect clients of a workspace (RFC 7591 names). The client id is unique in the tenant; every lookup also
 * names the workspace, so a client of one workspace is unknown to another. Only a SHA-256 of the secret is kept
 * (null for a public client, token_endpoint_auth_method `none`). Deleting the workspace or the client cascades to its
 * codes, refresh tokens and consents.
 */
export const oidcClients = sqliteTable(
  "oidc_clients",
  {
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    clientId: text("client_id").notNull(),
    clientName: text("client_name").notNull().default(""),
    secretHash: text("secret_hash"),
    redirectUris: text("redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
    postLogoutRedirectUris: text("post_logout_redirect_uris", { mode: "json" }).$type<string[]>().notNull(),
    grantTypes: text("grant_types", { mode: "json" }).$type<OidcGrantType[]>().notNull(),
    tokenEndpointAuthMethod: text("token_endpoint_auth_method", { enum: TOKEN_AUTH_METHODS }).notNull(),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    idTokenAlg: text("id_token_signed_response_alg", { enum: ID_TOKEN_ALGS }).notNull().default("RS256"),
    trusted: integer("trusted", { mode: "boolean" }).notNull().default(false),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.clientId] }),
    index("oidc_clients_workspace").on(t.tenantId, t.workspaceId, t.createdAt),
    foreignKey({ columns: [t.tenantId, t.workspaceId], foreignColumns: [workspaces.tenantId, workspaces.id] }).onDelete("cascade"),
  ],
);

/**
 * Provider sessions: what the hosted sign-in proved (auth_time, amr, acr) for one user in one workspace. `id` is the
 * public `sid` of ID tokens; the cookie carries a separate secret of which only a SHA-256 is kept. Ended by deletion.
 */
export const oidcSessions = sqliteTable(
  "oidc_sessions",
  {
    id: text("id").primaryKey(),
    cookieHash: text("cookie_hash").notNull(),
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    poolId: text("pool_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    authTime: integer("auth_time").notNull(),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull(),
    acr: text("acr").$type<Acr>(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
  },
  (t) => [
    uniqueIndex("oidc_sessions_cookie").on(t.cookieHash),
    index("oidc_sessions_user").on(t.userId),
    index("oidc_sessions_workspace").on(t.tenantId, t.workspaceId),
    index("oidc_sessions_expiry").on(t.expiresAt),
    foreignKey({ columns: [t.tenantId, t.workspaceId], foreignColumns: [workspaces.tenantId, workspaces.id] }).onDelete("cascade"),
  ],
);

/**
 * Authorization codes, keyed by a SHA-256 of the code (never the code). A redemption sets consumed_at and family_id
 * (the refresh-token family it issued) in one conditional UPDATE; the row stays until the cron purge after its expiry,
 * so that a second redemption finds it consumed and revokes that family.
 */
export const oidcCodes = sqliteTable(
  "oidc_codes",
  {
    codeHash: text("code_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    clientId: text("client_id").notNull(),
    redirectUri: text("redirect_uri").notNull(),
    codeChallenge: text("code_challenge").notNull(),
    nonce: text("nonce"),
    /** Space separated, as granted. */
    scope: text("scope").notNull(),
    sessionId: text("session_id").notNull(),
    poolId: text("pool_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    authTime: integer("auth_time").notNull(),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull(),
    acr: text("acr").$type<Acr>(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    consumedAt: integer("consumed_at"),
    familyId: text("family_id"),
  },
  (t) => [
    index("oidc_codes_user").on(t.userId),
    index("oidc_codes_client").on(t.tenantId, t.clientId),
    index("oidc_codes_session").on(t.tenantId, t.sessionId),
    index("oidc_codes_expiry").on(t.expiresAt),
    foreignKey({ columns: [t.tenantId, t.clientId], foreignColumns: [oidcClients.tenantId, oidcClients.clientId] }).onDelete("cascade"),
  ],
);

/**
 * Refresh tokens, keyed by a SHA-256 of the token. A family is what one code redemption started; rotation marks the
 * presented row rotated (successor_hash) and inserts its successor in one batch. A rotated or revoked row is kept
 * until its expiry so that presenting it again revokes the whole family.
 */
export const oidcRefreshTokens = sqliteTable(
  "oidc_refresh_tokens",
  {
    tokenHash: text("token_hash").primaryKey(),
    tenantId: text("tenant_id").notNull(),
    workspaceId: text("workspace_id").notNull(),
    clientId: text("client_id").notNull(),
    familyId: text("family_id").notNull(),
    sessionId: text("session_id").notNull(),
    poolId: text("pool_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    scope: text("scope").notNull(),
    authTime: integer("auth_time").notNull(),
    amr: text("amr", { mode: "json" }).$type<string[]>().notNull(),
    acr: text("acr").$type<Acr>(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at").notNull(),
    rotatedAt: integer("rotated_at"),
    successorHash: text("successor_hash"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [
    index("oidc_refresh_tokens_family").on(t.tenantId, t.familyId),
    index("oidc_refresh_tokens_user").on(t.userId),
    index("oidc_refresh_tokens_client").on(t.tenantId, t.clientId),
    index("oidc_refresh_tokens_session").on(t.tenantId, t.sessionId),
    index("oidc_refresh_tokens_expiry").on(t.expiresAt),
    foreignKey({ columns: [t.tenantId, t.clientId], foreignColumns: [oidcClients.tenantId, oidcClients.clientId] }).onDelete("cascade"),
  ],
);

/** Consents a user gave a client that is not trusted: the scopes granted so far (a sorted JSON set). */
export const oidcConsents = sqliteTable(
  "oidc_consents",
  {
    tenantId: text("tenant_id").notNull(),
    clientId: text("client_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    scopes: text("scopes", { mode: "json" }).$type<string[]>().notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.tenantId, t.clientId, t.userId] }),
    index("oidc_consents_user").on(t.userId),
    foreignKey({ columns: [t.tenantId, t.clientId], foreignColumns: [oidcClients.tenantId, oidcClients.clientId] }).onDelete("cascade"),
  ],
);
