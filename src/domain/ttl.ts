/**
 * Every timeout and lifetime of the service, in seconds, in one place. Plain constants with no imports: the browser
 * code imports this module too (the portal's re-authentication threshold).
 */
const RECENT_AUTH = 300;

export const TTL = {
  /** A WebAuthn ceremony: the challenge's life in KV and the timeout the browser is given. */
  challenge: 300,
  /** Self-service changes need a sign-in at most this old (401 insufficient_user_authentication, max_age). */
  recentAuth: RECENT_AUTH,
  /** The portal re-authenticates before a change when the sign-in is older than this: 10 s below recentAuth. */
  portalReauth: RECENT_AUTH - 10,
  /** A sign-in transaction (first factor done, second factor pending) in KV. */
  signin: 600,
  /** A user's access token. */
  userToken: 900,
  /** A system (client-credentials) access token. */
  systemToken: 3600,
  /** An OIDC authorization code (single use). */
  authorizationCode: 60,
  /** A provider session (the hosted sign-in's SSO cookie and row), from its sign-in: absolute, not sliding. */
  providerSession: 12 * 3600,
  /** An OIDC refresh token; each rotation's successor gets a fresh lifetime. */
  refreshToken: 30 * 24 * 3600,
  /** An OIDC ID token. */
  idToken: 900,
  /** A pending OIDC authorization request in KV (`authz:*`) while the user signs in or consents (part B). */
  pendingAuthorization: 600,
  /** Per-isolate caches (a tenant's active signing key, verification keys). */
  cache: 60,
  /**
   * The per-isolate cache of workspace and pool configuration (repo/config-cache.ts): how long a change made through
   * another isolate may take to apply everywhere (this isolate's own writes apply at once).
   */
  config: 30,
} as const;
