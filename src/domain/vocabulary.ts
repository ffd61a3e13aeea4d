/**
 * The closed value sets the service stores and accepts, each written once: the drizzle schema (src/db/schema.ts)
 * types its columns with them, the zod schemas (src/schemas) validate with them, the policies use their types.
 * The sign-in mechanisms are in ./mechanisms.ts. No imports: the browser code may import types from here.
 */

/** A workspace's passkey mode: Smart (usernameless_webauthn, discoverable credentials) or Classic (webauthn). */
export const PASSKEY_MODES = ["smart", "classic"] as const;
export type PasskeyMode = (typeof PASSKEY_MODES)[number];

/** A pool's passkey settings. */
export const USER_VERIFICATION = ["required", "preferred", "discouraged"] as const;
export type UserVerification = (typeof USER_VERIFICATION)[number];
export const ATTESTATION = ["none", "direct"] as const;
export type Attestation = (typeof ATTESTATION)[number];

export const USER_STATUSES = ["active", "inactive"] as const;
export const IDENTIFIER_TYPES = ["email", "uid", "mobile"] as const;
export const ADDRESS_TYPES = ["email", "mobile"] as const;
export const CREDENTIAL_TYPES = ["password", "webauthn"] as const;
export const SIGNING_KEY_STATUSES = ["active", "retired"] as const;
/** What a WebAuthn ceremony challenge was issued for. */
export const CHALLENGE_PURPOSES = ["register", "authenticate"] as const;

/** OpenID Connect (../shared/api.md "OpenID Connect" and "Clients"). */
export const OIDC_GRANT_TYPES = ["authorization_code", "refresh_token"] as const;
export type OidcGrantType = (typeof OIDC_GRANT_TYPES)[number];
/** How a client authenticates at the token endpoint; `none` is a public client (PKCE only). */
export const TOKEN_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"] as const;
export type TokenAuthMethod = (typeof TOKEN_AUTH_METHODS)[number];
/** ID token signing algorithms, the first is the default. */
export const ID_TOKEN_ALGS = ["RS256", "ES256"] as const;
export type IdTokenAlg = (typeof ID_TOKEN_ALGS)[number];
/** The scopes an OIDC client may be registered for: OIDC's and the self-service API's (never the system API's `identity`). */
export const OIDC_CLIENT_SCOPES = ["openid", "profile", "email", "offline_access", "view_ss_profile", "manage_ss_profile"] as const;
export const OIDC_PROMPTS = ["none", "login", "consent"] as const;
export type OidcPrompt = (typeof OIDC_PROMPTS)[number];
/** Authentication context classes: `phrh` a device-bound passkey with user verification, `phr` any passkey. */
export const ACR_VALUES = ["phrh", "phr"] as const;
export type Acr = (typeof ACR_VALUES)[number];
/** A stored acr value read back from a raw row: one of ACR_VALUES, else null. */
export const acrOf = (v: unknown): Acr | null => ACR_VALUES.find((a) => a === v) ?? null;
/** Authentication method references (RFC 8176) that a sign-in can prove. */
export const AMR_VALUES = ["pop", "hwk", "swk", "user", "pwd", "mfa"] as const;
export type Amr = (typeof AMR_VALUES)[number];
