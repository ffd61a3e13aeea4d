/** Schemas of the workspace's OpenID Provider endpoints (token, revocation, userinfo, discovery), for routes and OpenAPI. */
import { z } from "@hono/zod-openapi";
import { Id } from "./common";

export const OidcParams = z.object({ tid: Id, wid: Id });

/** RFC 6749 §4.1.3 and §6 in one form; which fields a grant needs is the service's check (invalid_request). */
export const OidcTokenForm = z
  .object({
    grant_type: z.string().max(64).optional(),
    code: z.string().max(512).optional(),
    redirect_uri: z.string().max(2000).optional(),
    code_verifier: z.string().max(256).optional(),
    refresh_token: z.string().max(512).optional(),
    scope: z.string().max(1024).optional(),
    client_id: z.string().max(256).optional(),
    client_secret: z.string().max(512).optional(),
  })
  .openapi("OidcTokenRequest");

export const OidcTokenResponse = z
  .object({
    access_token: z.string().openapi({ description: "RFC 9068 JWT (ES256, typ at+jwt)" }),
    token_type: z.literal("Bearer"),
    expires_in: z.number().int(),
    scope: z.string(),
    id_token: z.string().openapi({ description: "Signed with the client's id_token_signed_response_alg (RS256 or ES256)" }),
    refresh_token: z.string().optional().openapi({ description: "Only when offline_access was granted and the client may refresh" }),
  })
  .openapi("OidcTokenResponse");

/** RFC 7009 §2.1. */
export const RevokeForm = z
  .object({
    token: z.string().max(4096).optional(),
    token_type_hint: z.string().max(64).optional(),
    client_id: z.string().max(256).optional(),
    client_secret: z.string().max(512).optional(),
  })
  .openapi("RevocationRequest");

export const UserInfoResponse = z
  .object({
    sub: z.string(),
    preferred_username: z.string().optional(),
    name: z.string().optional(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
  })
  .openapi("UserInfo");

export const OidcDiscovery = z.record(z.string(), z.unknown()).openapi("OpenIDProviderMetadata");
