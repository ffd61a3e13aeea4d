import { z } from "@hono/zod-openapi";
import { OTP_FAILURES, OTP_REQUESTS, PASSWORD_FAILURES, SIGNIN_IP, type CounterLimit } from "../domain/limits";
import { ATTESTATION, USER_VERIFICATION } from "../domain/vocabulary";
import { Id, Mechanism, Timestamp } from "./common";

const range = (l: CounterLimit) => `default ${l.defaultLimit}, ${l.poolField!.min}..${l.poolField!.max} (else 422 naming the field)`;
const LIMIT_DOCS = {
  password_failures:
    `Abuse limit: wrong passwords per identifier per 15 minutes (a fixed window from the first failure); then ` +
    `every password attempt for that identifier is 429 rate_limited with Retry-After until the window passes. Unknown ` +
    `identifiers are counted alike; a workspace applies the strictest value of its pools. Passkey sign-in is never blocked by it. ${range(PASSWORD_FAILURES)}.`,
  otp_requests_per_hour:
    `Abuse limit: one-time-code requests (add/request) per user per hour; a request that names nobody is ` +
    `counted on its lookup value. Then 429 rate_limited with Retry-After. ${range(OTP_REQUESTS)}.`,
  otp_failures_per_day:
    `Abuse limit: wrong one-time codes per user per 24 hours (add/complete and enrollment links); then every ` +
    `code check for the user is 429 rate_limited with Retry-After. Each code also dies after 5 wrong codes. ${range(OTP_FAILURES)}.`,
};
const LIMITS_DOC =
  "Passkey limits and abuse limits of the pool. Deploy-time limits that are not per pool: " +
  `${SIGNIN_IP.defaultLimit} sign-in requests (login/webauthn/options, finish, login/password) per client IP per minute ` +
  "(Workers Rate Limiting binding SIGNIN_IP_LIMITER in wrangler.toml) and 10 client-authentication failures per client " +
  "per minute at the token endpoint.";

const PasskeySettings = z.object({
  relying_party_id: z.string().max(253).optional().openapi({ example: "yourcompany.com" }),
  relying_party_origins: z
    .array(z.string().max(2048))
    .max(50)
    .optional()
    .openapi({ example: ["https://app.yourcompany.com"] }),
  user_verification: z.enum(USER_VERIFICATION).optional(),
  attestation: z.enum(ATTESTATION).optional(),
});

// Integers are range-checked by the pool policy (422), not here (400): the contract says limits out of range are 422.
export const PoolInput = z
  .object({
    id: Id.optional().openapi({ description: "optional; generated when absent" }),
    name: z.string().trim().min(1).max(128),
    description: z.string().max(1024).optional(),
    authentication_mechanisms: z.array(Mechanism).max(8).optional(),
    preferred_authentication_mechanism: z.union([Mechanism, z.literal("")]).optional(),
    second_factor_authentication_mechanisms: z.array(Mechanism).max(8).optional(),
    second_factor_preferred_authentication_mechanism: z.union([Mechanism, z.literal("")]).optional(),
    passkey_settings: PasskeySettings.optional(),
    limits: z
      .object({
        max_credentials: z.number().int().optional(),
        webauthn_credentials_capacity: z.number().int().optional(),
        password_failures: z.number().int().optional().openapi({ description: LIMIT_DOCS.password_failures }),
        otp_requests_per_hour: z.number().int().optional().openapi({ description: LIMIT_DOCS.otp_requests_per_hour }),
        otp_failures_per_day: z.number().int().optional().openapi({ description: LIMIT_DOCS.otp_failures_per_day }),
      })
      .optional()
      .openapi({ description: LIMITS_DOC }),
    otp_settings: z
      .object({ enroll_webauthn: z.object({ length: z.number().int().optional(), ttl: z.string().max(16).optional() }).optional() })
      .optional(),
  })
  .openapi("PoolInput");
export type PoolInput = z.infer<typeof PoolInput>;

/** PUT: every field optional; absent fields keep their value. */
export const PoolUpdate = PoolInput.omit({ id: true }).partial().openapi("PoolUpdate");
export type PoolUpdate = z.infer<typeof PoolUpdate>;

export const Pool = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    name: z.string(),
    description: z.string(),
    authentication_mechanisms: z.array(Mechanism),
    preferred_authentication_mechanism: Mechanism,
    second_factor_authentication_mechanisms: z.array(Mechanism),
    second_factor_preferred_authentication_mechanism: z.union([Mechanism, z.literal("")]),
    passkey_settings: z.object({
      relying_party_id: z.string(),
      relying_party_origins: z.array(z.string()),
      user_verification: z.enum(USER_VERIFICATION),
      attestation: z.enum(ATTESTATION),
    }),
    limits: z
      .object({
        max_credentials: z.number().int(),
        webauthn_credentials_capacity: z.number().int(),
        password_failures: z.number().int().openapi({ description: LIMIT_DOCS.password_failures }),
        otp_requests_per_hour: z.number().int().openapi({ description: LIMIT_DOCS.otp_requests_per_hour }),
        otp_failures_per_day: z.number().int().openapi({ description: LIMIT_DOCS.otp_failures_per_day }),
      })
      .openapi({ description: LIMITS_DOC }),
    otp_settings: z.object({ enroll_webauthn: z.object({ length: z.number().int(), ttl: z.string() }) }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Pool");

export const PoolParams = z.object({ tid: Id, ipID: Id });
