import { z } from "@hono/zod-openapi";
import { PASSKEY_MODES } from "../domain/vocabulary";
import { Id, IdentifierText, signedInFields } from "./common";
import { AuthenticationResponse } from "./webauthn";

export const WorkspaceScopedParams = z.object({ tid: Id, wid: Id });

const Scope = z
  .string()
  .max(256)
  .optional()
  .openapi({ description: "space-separated, from: openid profile view_ss_profile manage_ss_profile" });

export const SigninConfig = z
  .object({
    passkey_mode: z.enum(PASSKEY_MODES).nullable(),
    methods: z.array(z.string()),
    preferred: z.string().nullable(),
    sign_up: z.boolean().openapi({ description: "A pool of the workspace has self_service.sign_up (and the workspace has passkeys)." }),
    recovery: z.boolean().openapi({ description: "A pool of the workspace has self_service.recovery (and the workspace has passkeys)." }),
  })
  .openapi("LoginConfig");

export const OptionsInput = z
  .object({
    identifier: IdentifierText.optional(),
    login_id: z.string().max(64).optional(),
    scope: Scope,
  })
  .openapi("LoginOptionsInput");

export const OptionsResponse = z
  .object({
    login_id: z.string(),
    publicKey: z.record(z.string(), z.unknown()).openapi({ description: "PublicKeyCredentialRequestOptionsJSON" }),
  })
  .openapi("LoginOptions");

const Authz = z
  .string()
  .max(64)
  .optional()
  .openapi({ description: "the pending OpenID Connect authorization this sign-in serves (the hosted page's ?authz=)" });

export const FinishInput = z
  .object({ login_id: z.string().max(64), credential: AuthenticationResponse, authz: Authz })
  .openapi("LoginFinishInput");

export const PasswordInput = z
  .object({
    identifier: IdentifierText,
    password: z.string().min(1).max(1024),
    scope: Scope,
    authz: Authz,
  })
  .openapi("PasswordLoginInput");

export const TokenOrNext = z
  .union([
    z.object({
      ...signedInFields,
      passkey_upgrade: z
        .boolean()
        .optional()
        .openapi({
          description:
            "Password sign-in only, present (true) when the pool has self_service.passkey_upgrade, the workspace has a passkey " +
            "mode and the user has no passkey usable in it and room for one: the page may create a passkey with this token " +
            "(self-service create/begin and complete), silently where the browser supports conditional create.",
        }),
    }),
    z.object({ login_id: z.string(), next: z.array(z.string()) }),
  ])
  .openapi("LoginResult");
