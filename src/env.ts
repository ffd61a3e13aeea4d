/** Bindings, vars and secrets of the Worker (see wrangler.toml and README "Configuration"). */
export interface Env {
  DB: D1Database;
  CHALLENGES: KVNamespace;
  /** "development" enables the dev outbox; anything else is production behaviour. */
  ENVIRONMENT?: string;
  /** Bootstrap system client, valid for every tenant. Secrets in production. */
  SYSTEM_CLIENT_ID?: string;
  SYSTEM_CLIENT_SECRET?: string;
  /** Secret from which the key that encrypts signing keys at rest is derived (HKDF). */
  KEY_ENCRYPTION_SECRET?: string;
  /**
   * The service's own URL, e.g. "https://id.example.com": token issuer base, default RP ID (its host) and default
   * expected origin. Required outside development (else 503 not_configured); see src/http/context.ts serviceOrigin.
   */
  ISSUER_BASE_URL?: string;
  OTP_WEBHOOK_URL?: string;
  OTP_WEBHOOK_SECRET?: string;
  /**
   * Workers Rate Limiting binding for sign-in requests per client IP (wrangler.toml `[[ratelimits]]`, shipped as
   * 60 per 60 s). When absent, the per-IP check is skipped (src/services/limits.ts).
   */
  SIGNIN_IP_LIMITER?: RateLimit;
}
