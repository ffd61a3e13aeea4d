/**
 * Every abuse limit of the service, in one place (pure: names, defaults, windows, ranges). The contract's defaults
 * ("Abuse limits"): 5 wrong passwords per identifier per 15 minutes; 60 sign-in requests per client IP per minute;
 * 5 one-time-code requests per user per hour, 5 wrong codes per code and 10 per user per day; 10 client-authentication
 * failures per client per minute at the token endpoint.
 *
 * - D1 counters (src/repo/counters.ts, src/services/limits.ts): password failures, code requests, wrong codes per
 *   user, token-endpoint client failures. The first three are configurable per pool (`limits` of the pool).
 * - Workers Rate Limiting binding (wrangler.toml `[[ratelimits]]`): the per-IP sign-in limit; its limit and period
 *   are deploy-time configuration, the values below only document the shipped defaults.
 * - Wrong codes per code: MAX_CODE_ATTEMPTS in src/repo/codes.ts (a column of the code row).
 */
const MINUTE = 60_000;

export interface CounterLimit {
  /** Name used in audit events and 429 details. */
  name: string;
  /** Fixed window length in ms, starting at the first counted event. */
  windowMs: number;
  /** Default limit; per-pool limits override it where `poolField` is set. */
  defaultLimit: number;
  /** The pool's `limits` field (API name) that overrides the default, with its allowed range. */
  poolField?: { name: string; min: number; max: number };
}

export const PASSWORD_FAILURES: CounterLimit = {
  name: "password_failures",
  windowMs: 15 * MINUTE,
  defaultLimit: 5,
  poolField: { name: "password_failures", min: 1, max: 100 },
};
export const OTP_REQUESTS: CounterLimit = {
  name: "otp_requests",
  windowMs: 60 * MINUTE,
  defaultLimit: 5,
  poolField: { name: "otp_requests_per_hour", min: 1, max: 100 },
};
export const OTP_FAILURES: CounterLimit = {
  name: "otp_failures",
  windowMs: 24 * 60 * MINUTE,
  defaultLimit: 10,
  poolField: { name: "otp_failures_per_day", min: 1, max: 1000 },
};
/** Not per pool: system clients belong to the tenant. */
export const CLIENT_AUTH_FAILURES: CounterLimit = { name: "client_auth_failures", windowMs: MINUTE, defaultLimit: 10 };

/** The per-IP sign-in limiter: binding name and the defaults shipped in wrangler.toml. */
export const SIGNIN_IP = { name: "signin_ip", binding: "SIGNIN_IP_LIMITER", defaultLimit: 60, periodSeconds: 60 } as const;

/** Seconds until `expiresAt`, at least 1 (the Retry-After value). */
export const retryAfterSeconds = (expiresAt: number, now: number) => Math.max(1, Math.ceil((expiresAt - now) / 1000));

/** Counter keys (tenant-scoped in storage). Identifier keys are already normalised (services/users identifierKey). */
export const counterKeys = {
  password: (identifierKey: string) => `pwd:${identifierKey}`,
  otpRequestsUser: (userId: string) => `otpreq:user:${userId}`,
  otpRequestsLookup: (poolId: string, kind: string, value: string) => `otpreq:${poolId}:${kind}:${value}`,
  otpFailuresUser: (userId: string) => `otpfail:user:${userId}`,
  client: (clientId: string) => `client:${clientId}`,
};
