import { z } from "@hono/zod-openapi";
import { isWellFormed } from "../domain/names";
import { ADDRESS_TYPES, CREDENTIAL_TYPES, IDENTIFIER_TYPES, USER_STATUSES } from "../domain/vocabulary";
import { Id, IdentifierText, Timestamp } from "./common";

const JsonObject = z.record(z.string(), z.unknown());

export const IdentifierInput = z.object({
  identifier: IdentifierText,
  type: z.enum(IDENTIFIER_TYPES),
});

export const AddressInput = z.object({
  address: IdentifierText,
  type: z.enum(ADDRESS_TYPES),
  verified: z.boolean().optional(),
});

export const PasswordInput = z.object({
  type: z.literal("password"),
  password: z.string().min(8).max(256).refine(isWellFormed, "must be well-formed Unicode text"),
});

export const UserInput = z
  .object({
    status: z.enum(USER_STATUSES).optional(),
    identifiers: z.array(IdentifierInput).min(1).max(10),
    verifiable_addresses: z.array(AddressInput).max(10).optional(),
    credentials: z.array(PasswordInput).max(1).optional(),
    payload: JsonObject.optional(),
    metadata: JsonObject.optional(),
  })
  .openapi("UserInput");
export type UserInput = z.infer<typeof UserInput>;

export const UserUpdate = UserInput.partial().openapi("UserUpdate");
export type UserUpdate = z.infer<typeof UserUpdate>;

export const Identifier = z.object({ identifier: z.string(), type: z.string() });
export const Address = z.object({ address: z.string(), type: z.string(), verified: z.boolean() });

export const Credential = z
  .object({
    id: z.string(),
    type: z.enum(CREDENTIAL_TYPES),
    tenant_id: z.string(),
    user_pool_id: z.string(),
    user_id: z.string(),
    state: z.string(),
    name: z.string().nullable(),
    discoverable_id: z.string(),
    payload: z
      .object({
        credential_id: z.string(),
        attestationType: z.string(),
        transport: z.array(z.string()),
        flags: z.object({ userPresent: z.boolean(), userVerified: z.boolean(), backupEligible: z.boolean(), backupState: z.boolean() }),
        authenticator: z.object({
          AAGUID: z.string(),
          name: z.string().nullable(),
          signCount: z.number().int(),
          cloneWarning: z.boolean(),
          attachment: z.string().nullable(),
        }),
      })
      .partial(),
    created_at: Timestamp,
    updated_at: Timestamp,
    last_used_at: Timestamp.nullable(),
  })
  .openapi("Credential");

const userFields = {
  id: z.string(),
  tenant_id: z.string(),
  user_pool_id: z.string(),
  status: z.string(),
  identifiers: z.array(Identifier),
  verifiable_addresses: z.array(Address),
  payload: JsonObject,
  metadata: JsonObject,
  created_at: Timestamp,
  updated_at: Timestamp,
};

export const User = z.object(userFields).openapi("User");
export const UserWithData = z.object({ ...userFields, credentials: z.array(Credential) }).openapi("UserWithData");

export const UserParams = z.object({ tid: Id, ipID: Id, userID: Id });
export const ListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).optional(),
  offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
  search: IdentifierText.optional().openapi({ description: "Only users with an identifier containing this text (case-insensitive)" }),
});
