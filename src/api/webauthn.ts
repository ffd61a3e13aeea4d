/** The browser JSON forms of WebAuthn ceremonies (base64url byte fields), bounded in size. */
import { z } from "@hono/zod-openapi";

const b64url = (max: number) =>
  z
    .string()
    .max(max)
    .regex(/^[A-Za-z0-9_-]*$/, "must be base64url without padding");

/** Credential ids are at most 1023 bytes: 1364 base64url characters. */
export const CredentialIdB64 = b64url(1364);

const ClientExtensionResults = z.object({ credProps: z.object({ rk: z.boolean().optional() }).optional() }).catchall(z.unknown());

/** Fields both ceremony responses share. */
const credentialFields = {
  id: CredentialIdB64.min(1),
  rawId: CredentialIdB64.min(1),
  type: z.literal("public-key"),
  clientExtensionResults: ClientExtensionResults.optional(),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
};

export const RegistrationResponse = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: b64url(8192).min(1),
      attestationObject: b64url(48_000).min(1),
      transports: z.array(z.string().max(32)).max(10).optional(),
      publicKeyAlgorithm: z.number().int().optional(),
      publicKey: b64url(4096).optional(),
      authenticatorData: b64url(48_000).optional(),
    }),
  })
  .openapi("RegistrationResponseJSON");

export const AuthenticationResponse = z
  .object({
    ...credentialFields,
    response: z.object({
      clientDataJSON: b64url(8192).min(1),
      authenticatorData: b64url(48_000).min(37),
      signature: b64url(2048).min(1),
      userHandle: b64url(128).optional().nullable(),
    }),
  })
  .openapi("AuthenticationResponseJSON");

export type RegistrationResponseInput = z.infer<typeof RegistrationResponse>;
export type AuthenticationResponseInput = z.infer<typeof AuthenticationResponse>;

export const CreationOptions = z
  .object({ publicKey: z.record(z.string(), z.unknown()).openapi({ description: "PublicKeyCredentialCreationOptionsJSON" }) })
  .openapi("CreationOptions");

export const NameInput = z.object({ name: z.string().max(512) }).openapi("PasskeyName");
