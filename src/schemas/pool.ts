import { z } from "@hono/zod-openapi";
import { Id, Mechanism, Timestamp } from "./common";

const PasskeySettings = z.object({
  relying_party_id: z.string().max(253).optional().openapi({ example: "yourcompany.com" }),
  relying_party_origins: z.array(z.string().max(2048)).max(50).optional().openapi({ example: ["https://app.yourcompany.com"] }),
  user_verification: z.enum(["required", "preferred", "discouraged"]).optional(),
  attestation: z.enum(["none", "direct"]).optional(),
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
      .object({ max_credentials: z.number().int().optional(), webauthn_credentials_capacity: z.number().int().optional() })
      .optional(),
    otp_settings: z
      .object({ enroll_webauthn: z.object({ length: z.number().int().optional(), ttl: z.string().max(16).optional() }).optional() })
      .optional(),
  })
  .openapi("PoolInput");

/** PUT: every field optional; absent fields keep their value. */
export const PoolUpdate = PoolInput.omit({ id: true }).partial().openapi("PoolUpdate");

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
      user_verification: z.enum(["required", "preferred", "discouraged"]),
      attestation: z.enum(["none", "direct"]),
    }),
    limits: z.object({ max_credentials: z.number().int(), webauthn_credentials_capacity: z.number().int() }),
    otp_settings: z.object({ enroll_webauthn: z.object({ length: z.number().int(), ttl: z.string() }) }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("Pool");

export const PoolParams = z.object({ tid: Id, ipID: Id });
