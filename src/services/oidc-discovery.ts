/** A workspace's OpenID Provider metadata (OIDC Discovery 1.0) and keys (the tenant's: RS256 and ES256). */
import { jwks } from "../crypto/keys";
import { notFound } from "../errors";
import { ACR_VALUES, ID_TOKEN_ALGS, OIDC_CLIENT_SCOPES, OIDC_GRANT_TYPES, OIDC_PROMPTS, TOKEN_AUTH_METHODS } from "../domain/vocabulary";
import { getWorkspace } from "../repo/workspaces";
import type { WorkspaceCall } from "./call";
import { workspaceIssuer } from "./oidc-tokens-mint";

const CLAIMS = [
  "sub",
  "iss",
  "aud",
  "azp",
  "exp",
  "iat",
  "auth_time",
  "nonce",
  "sid",
  "amr",
  "acr",
  "preferred_username",
  "name",
  "email",
  "email_verified",
];

async function requireWorkspace(call: WorkspaceCall): Promise<void> {
  if (!(await getWorkspace(call.env.DB, call.tenantId, call.workspaceId))) throw notFound("workspace");
}

/** The discovery document of the call's workspace; 404 for an unknown workspace. */
export async function getOidcDiscovery(call: WorkspaceCall): Promise<Record<string, unknown>> {
  const issuer = workspaceIssuer(call.origin().issuerBase, call.tenantId, call.workspaceId);
  await requireWorkspace(call);
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth2/authorize`,
    token_endpoint: `${issuer}/oauth2/token`,
    userinfo_endpoint: `${issuer}/userinfo`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/oauth2/revoke`,
    end_session_endpoint: `${issuer}/oidc/logout`,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    grant_types_supported: [...OIDC_GRANT_TYPES],
    subject_types_supported: ["public"],
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGS],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: [...TOKEN_AUTH_METHODS],
    revocation_endpoint_auth_methods_supported: [...TOKEN_AUTH_METHODS],
    scopes_supported: [...OIDC_CLIENT_SCOPES],
    claims_supported: CLAIMS,
    acr_values_supported: [...ACR_VALUES],
    prompt_values_supported: [...OIDC_PROMPTS],
    authorization_response_iss_parameter_supported: true,
    request_parameter_supported: false,
    request_uri_parameter_supported: false,
    claims_parameter_supported: false,
  };
}

/** The public keys that verify the workspace's tokens (the tenant's keys); 404 for an unknown workspace. */
export async function getOidcJwks(call: WorkspaceCall): ReturnType<typeof jwks> {
  await requireWorkspace(call);
  return jwks(call.env.DB, call.tenantId);
}
