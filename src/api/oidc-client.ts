/** OpenID Connect clients of a workspace (../shared/api.md "Clients"): RFC 7591 metadata names on the wire. */
import { z } from "@hono/zod-openapi";
import { ID_TOKEN_ALGS, OIDC_CLIENT_SCOPES, OIDC_GRANT_TYPES, TOKEN_AUTH_METHODS } from "../domain/vocabulary";
import { Id, Timestamp } from "./common";

/** URIs are checked by src/domain/oidc.ts checkRedirectUri (422 naming the field); here only a size guard. */
const Uris = z.array(z.string().max(2000)).max(100);

const uriRules =
  "Absolute, no fragment; https, or http only for localhost, 127.0.0.1 and [::1] (any port), or a private-use scheme in reverse-domain form (com.example.app:/cb). At most 20; a violation is 422 invalid_configuration naming the field.";

const Metadata = z.object({
  client_name: z.string().max(200).optional(),
  redirect_uris: Uris.openapi({ description: `Matched exactly at the authorization endpoint. ${uriRules}` }),
  post_logout_redirect_uris: Uris.optional().openapi({ description: `For RP-initiated logout; default []. ${uriRules}` }),
  grant_types: z
    .array(z.enum(OIDC_GRANT_TYPES))
    .min(1)
    .max(OIDC_GRANT_TYPES.length * 2)
    .optional()
    .openapi({ description: 'Must include authorization_code; default ["authorization_code"]' }),
  token_endpoint_auth_method: z
    .enum(TOKEN_AUTH_METHODS)
    .optional()
    .openapi({ description: "default client_secret_basic; none = a public client (PKCE only, no secret)" }),
  scopes: z
    .array(z.enum(OIDC_CLIENT_SCOPES))
    .min(1)
    .max(OIDC_CLIENT_SCOPES.length * 2)
    .optional()
    .openapi({ description: 'The scopes the client may request; must include openid; default ["openid","profile","email"]' }),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).optional().openapi({ description: "default RS256" }),
  trusted: z.boolean().optional().openapi({ description: "A trusted client skips the consent page; default false" }),
});

export const OidcClientInput = Metadata.extend({
  client_id: Id.optional().openapi({ description: "optional; generated (128 random bits, base64url) when absent; unique in the tenant" }),
}).openapi("OidcClientInput");
export type OidcClientInput = z.infer<typeof OidcClientInput>;

export const OidcClientUpdate = Metadata.partial().openapi("OidcClientUpdate");
export type OidcClientUpdate = z.infer<typeof OidcClientUpdate>;

export const OidcClient = z
  .object({
    client_id: z.string(),
    tenant_id: z.string(),
    workspace_id: z.string(),
    client_name: z.string(),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.enum(OIDC_GRANT_TYPES)),
    token_endpoint_auth_method: z.enum(TOKEN_AUTH_METHODS),
    scopes: z.array(z.string()),
    id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS),
    trusted: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi("OidcClient");

const secretDescription = "Shown only in this answer; stored as a SHA-256 hash.";

/** Create and update answers: `client_secret` when a secret was just made (a new or newly confidential client). */
export const OidcClientWithSecret = OidcClient.extend({
  client_secret: z
    .string()
    .optional()
    .openapi({ description: `${secretDescription} Absent for a public client.` }),
}).openapi("OidcClientWithSecret");

export const OidcClientRotated = OidcClient.extend({
  client_secret: z.string().openapi({ description: `${secretDescription} The previous secret stops working at once.` }),
}).openapi("OidcClientRotated");

export const OidcClientListParams = z.object({ tid: Id, wid: Id });
export const OidcClientParams = z.object({ tid: Id, wid: Id, cid: Id });
