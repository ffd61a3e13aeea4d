/** Admin console: system API calls with the administrator's token; errors keep the contract's details. */
import { api, ApiFailure } from "./api";

export type SystemApi = <T = unknown>(method: string, path: string, body?: unknown) => Promise<T>;

/**
 * A caller for /api/identity/{tid}/system. A 401 means the token expired or was revoked: `onUnauthorized` runs (the
 * console sends the administrator to sign in again) and the call rejects. A network failure is an ApiFailure with
 * status 0.
 */
export function systemApi(tid: string, token: string, onUnauthorized: () => void): SystemApi {
  const base = `/api/identity/${encodeURIComponent(tid)}/system`;
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    try {
      return await api<T>(method, base + path, body, token);
    } catch (e) {
      if (!(e instanceof ApiFailure)) {
        throw new ApiFailure(0, "network_error", "The service is not reachable. Check your connection and try again.", new Headers());
      }
      if (e.status === 401) onUnauthorized();
      throw e;
    }
  };
}

/** A sentence for the live region: the API's own message, with the status for context. */
export function errorText(e: unknown, doing: string): string {
  if (e instanceof ApiFailure) {
    if (e.status === 0) return e.message;
    if (e.status === 403) return `${doing} failed: this account is not allowed to manage the tenant (scope identity missing).`;
    if (e.status === 404) return `${doing} failed: it no longer exists. Reload the page.`;
    return `${doing} failed: ${e.message.replace(/\.$/, "")}.`;
  }
  return `${doing} failed. Try again.`;
}

/** The system API shapes the console uses (the contract's Pool, Workspace, User and Credential). */
export type Mechanism = "password" | "email_otp" | "webauthn" | "usernameless_webauthn";

export interface Workspace {
  id: string;
  name: string;
  authentication_mechanisms: Mechanism[];
  identity_pools: string[];
  passkey_mode: "smart" | "classic" | null;
}

export interface Pool {
  id: string;
  name: string;
  description: string;
  authentication_mechanisms: Mechanism[];
  preferred_authentication_mechanism: Mechanism;
  second_factor_authentication_mechanisms: Mechanism[];
  second_factor_preferred_authentication_mechanism: Mechanism | "";
  passkey_settings: {
    relying_party_id: string;
    relying_party_origins: string[];
    user_verification: "required" | "preferred" | "discouraged";
    attestation: "none" | "direct";
  };
  limits: {
    max_credentials: number;
    webauthn_credentials_capacity: number;
    password_failures: number;
    otp_requests_per_hour: number;
    otp_failures_per_day: number;
  };
}

export interface User {
  id: string;
  user_pool_id: string;
  status: string;
  identifiers: { identifier: string; type: string }[];
  verifiable_addresses: { address: string; type: string; verified: boolean }[];
  created_at: string;
}

export interface Credential {
  id: string;
  type: "password" | "webauthn";
  name: string | null;
  discoverable_id: string;
  payload: {
    credential_id?: string;
    transport?: string[];
    flags?: { backupEligible: boolean; backupState: boolean };
    authenticator?: { name: string | null; AAGUID: string; attachment: string | null };
  };
  created_at: string;
  last_used_at: string | null;
}

export type UserWithData = User & { credentials: Credential[] };
