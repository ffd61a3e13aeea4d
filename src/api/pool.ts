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

const AuthenticatorPolicyDocs = {
  device_bound_only:
    "Refuse synced passkeys: at registration any credential with the backup-eligible flag set (400 authenticator_not_allowed), " +
    "at sign-in any credential that is backup eligible or whose flags changed. Default false.",
  aaguid_allow:
    "Only authenticators of these AAGUIDs (lowercase UUIDs, at most 100) may register and sign in; needs attestation direct " +
    "(else 422). Checked at registration and again at sign-in for passkeys registered before the list changed. Default [].",
  aaguid_deny:
    "Authenticators of these AAGUIDs may not register or sign in; same rules as aaguid_allow; not both lists at once. Default [].",
};
const AuthenticatorPolicyInput = z
  .object({
    device_bound_only: z.boolean().optional().openapi({ description: AuthenticatorPolicyDocs.device_bound_only }),
    aaguid_allow: z.array(z.string().max(64)).max(200).optional().openapi({ description: AuthenticatorPolicyDocs.aaguid_allow }),
    aaguid_deny: z.array(z.string().max(64)).max(200).optional().openapi({ description: AuthenticatorPolicyDocs.aaguid_deny }),
  })
  .openapi({ description: "Which authenticators the pool accepts (workforce and high-assurance pools)." });
const AuthenticatorPolicy = z.object({
  device_bound_only: z.boolean().openapi({ description: AuthenticatorPolicyDocs.device_bound_only }),
  aaguid_allow: z.array(z.string()).openapi({ description: AuthenticatorPolicyDocs.aaguid_allow }),
  aaguid_deny: z.array(z.string()).openapi({ description: AuthenticatorPolicyDocs.aaguid_deny }),
});

const SelfServiceDocs = {
  sign_up:
    "Passkey sign-up on the hosted sign-in page: a new person proves an email address with a one-time code and creates a " +
    "passkey; no password. Needs passkeys as a first factor and no second factor (else 422). Default false.",
  recovery:
    '"Lost your passkey?" on the hosted sign-in page: a one-time code to a verified address, then a new passkey, which ' +
    "signs the user in. Offered only while passkeys are a first factor and no second factor is asked (it would be skipped). " +
    "Default true (false for the admins pool: administrators are recovered by another administrator).",
  passkey_upgrade: "After a password sign-in on the hosted page, create a passkey (silently where the browser can). Default false.",
};
const SelfServiceInput = z
  .object({
    sign_up: z.boolean().optional().openapi({ description: SelfServiceDocs.sign_up }),
    recovery: z.boolean().optional().openapi({ description: SelfServiceDocs.recovery }),
    passkey_upgrade: z.boolean().optional().openapi({ description: SelfServiceDocs.passkey_upgrade }),
  })
  .openapi({ description: "What users may do for themselves on the hosted pages." });
const SelfService = z.object({
  sign_up: z.boolean().openapi({ description: SelfServiceDocs.sign_up }),
  recovery: z.boolean().openapi({ description: SelfServiceDocs.recovery }),
  passkey_upgrade: z.boolean().openapi({ description: SelfServiceDocs.passkey_upgrade }),
});

const PasskeySettings = z.object({
  relying_party_id: z.string().max(253).optional().openapi({ example: "yourcompany.com" }),
  relying_party_origins: z
    .array(z.string().max(2048))
    .max(50)
    .optional()
    .openapi({
      example: ["https://app.yourcompany.com"],
      description:
        "scheme://host[:port] origins that may use the pool's passkeys: https (http only for localhost) on the RP ID or a " +
        "subdomain of it, or related origins (WebAuthn L3 §5.11): https origins on other domains, for an RP ID other than " +
        "localhost, at most 5 other domains (each host counts, www.{host} with {host}), listed at " +
        "https://{relying_party_id}/.well-known/webauthn. Empty: the server's origin.",
    }),
  user_verification: z.enum(USER_VERIFICATION).optional(),
  attestation: z.enum(ATTESTATION).optional(),
  authenticator_policy: AuthenticatorPolicyInput.optional(),
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
    self_service: SelfServiceInput.optional(),
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
      authenticator_policy: AuthenticatorPolicy,
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
    self_service: SelfService,
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Pool");

export const PoolParams = z.object({ tid: Id, ipID: Id });
