/** Rows to the contract's JSON shapes. Never exposes a secret, hash or key. */
import { iso } from "../db/client";
import { passkeyMode } from "../domain/workspace";
import type { OidcClientRow } from "../repo/oidc-clients";
import type { PoolRow } from "../repo/pools";
import type { CredentialRow, UserRow, UserWithData } from "../repo/users";
import type { WorkspaceWithPools } from "../repo/workspaces";

export function poolView(p: PoolRow) {
  return {
    id: p.id,
    tenant_id: p.tenantId,
    name: p.name,
    description: p.description,
    authentication_mechanisms: p.mechanisms,
    preferred_authentication_mechanism: p.preferredMechanism,
    second_factor_authentication_mechanisms: p.secondFactorMechanisms,
    second_factor_preferred_authentication_mechanism: p.secondFactorPreferred,
    passkey_settings: {
      relying_party_id: p.rpId,
      relying_party_origins: p.rpOrigins,
      user_verification: p.userVerification,
      attestation: p.attestation,
      authenticator_policy: { device_bound_only: p.deviceBoundOnly, aaguid_allow: p.aaguidAllow, aaguid_deny: p.aaguidDeny },
    },
    limits: {
      max_credentials: p.maxCredentials,
      webauthn_credentials_capacity: p.webauthnCapacity,
      password_failures: p.passwordFailures,
      otp_requests_per_hour: p.otpRequestsPerHour,
      otp_failures_per_day: p.otpFailuresPerDay,
    },
    otp_settings: p.otpSettings,
    self_service: { sign_up: p.signUp, recovery: p.recovery, passkey_upgrade: p.passkeyUpgrade },
    created_at: iso(p.createdAt)!,
    updated_at: iso(p.updatedAt)!,
  };
}

export function workspaceView(w: WorkspaceWithPools) {
  return {
    id: w.id,
    tenant_id: w.tenantId,
    name: w.name,
    authentication_mechanisms: w.mechanisms,
    identity_pools: w.poolIds,
    passkey_mode: passkeyMode(w.mechanisms),
    created_at: iso(w.createdAt)!,
    updated_at: iso(w.updatedAt)!,
  };
}

export function credentialView(c: CredentialRow) {
  const base = {
    id: c.id,
    type: c.type,
    tenant_id: c.tenantId,
    user_pool_id: c.poolId,
    user_id: c.userId,
    state: c.state,
    name: c.name,
    discoverable_id: c.discoverableId,
    created_at: iso(c.createdAt)!,
    updated_at: iso(c.updatedAt)!,
    last_used_at: iso(c.lastUsedAt),
  };
  if (c.type !== "webauthn") return { ...base, payload: {} };
  return {
    ...base,
    payload: {
      credential_id: c.credentialId ?? "",
      attestationType: c.attestationType ?? "none",
      transport: c.transports ?? [],
      flags: {
        userPresent: c.userPresent ?? true,
        userVerified: c.userVerified ?? false,
        backupEligible: c.backupEligible ?? false,
        backupState: c.backupState ?? false,
      },
      authenticator: {
        AAGUID: c.aaguid ?? "00000000-0000-0000-0000-000000000000",
        name: c.authenticatorName,
        signCount: c.signCount,
        cloneWarning: c.cloneWarning,
        attachment: c.attachment,
      },
    },
  };
}

export function userView(u: UserRow & Partial<Pick<UserWithData, "identifiers" | "addresses">>) {
  return {
    id: u.id,
    tenant_id: u.tenantId,
    user_pool_id: u.poolId,
    status: u.status,
    identifiers: (u.identifiers ?? []).map((i) => ({ identifier: i.identifier, type: i.type })),
    verifiable_addresses: (u.addresses ?? []).map((a) => ({ address: a.address, type: a.type, verified: a.verified })),
    payload: u.payload,
    metadata: u.metadata,
    created_at: iso(u.createdAt)!,
    updated_at: iso(u.updatedAt)!,
  };
}

export function userWithDataView(u: UserWithData) {
  return { ...userView(u), credentials: u.credentials.map(credentialView) };
}

/** An OpenID Connect client (RFC 7591 names); never its secret or hash (part A of issue 10). */
export function oidcClientView(k: OidcClientRow) {
  return {
    client_id: k.clientId,
    tenant_id: k.tenantId,
    workspace_id: k.workspaceId,
    client_name: k.clientName,
    redirect_uris: k.redirectUris,
    post_logout_redirect_uris: k.postLogoutRedirectUris,
    grant_types: k.grantTypes,
    token_endpoint_auth_method: k.tokenEndpointAuthMethod,
    scopes: k.scopes,
    id_token_signed_response_alg: k.idTokenAlg,
    trusted: k.trusted,
    created_at: iso(k.createdAt)!,
    updated_at: iso(k.updatedAt)!,
  };
}
