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
