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
  /** Optional fixed issuer base, e.g. "https://id.example.com"; default: the request origin. */
  ISSUER_BASE_URL?: string;
  OTP_WEBHOOK_URL?: string;
  OTP_WEBHOOK_SECRET?: string;
}

export type AppEnv = { Bindings: Env; Variables: { auth?: import("./auth/principal").Principal } };
