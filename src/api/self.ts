import { z } from "@hono/zod-openapi";
import { UserWithData } from "./user";

/**
 * The signed-in user's WebAuthn identity in this workspace: what a hosted page hands to the browser's Signal API
 * (signalAllAcceptedCredentials, signalCurrentUserDetails). Only on GET /me, i.e. only for the user's own token.
 */
const WebauthnUser = z
  .object({
    rp_id: z.string().openapi({ description: "The RP ID of the user's pool in this workspace (the pool's, or the service's host)" }),
    id: z.string().openapi({ description: "The WebAuthn user handle (user.id of the passkeys), base64url" }),
    name: z.string().openapi({ description: "user.name of the user's passkeys: the first identifier" }),
    display_name: z.string().openapi({ description: "user.displayName of the user's passkeys (today the first identifier too)" }),
  })
  .nullable()
  .openapi({ description: "null when the workspace has no passkey mode or the user's pool is not one of its pools" });

export const SelfUser = UserWithData.extend({ webauthn_user: WebauthnUser }).openapi("SelfUser");
