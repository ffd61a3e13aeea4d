/** Admin console: the system API with the administrator's token, its types (the server's own schemas) and error text. */
import type { z } from "@hono/zod-openapi";
import type * as poolSchemas from "../../api/pool";
import type * as userSchemas from "../../api/user";
import type * as workspaceSchemas from "../../api/workspace";
import type { Mechanism } from "../../domain/mechanisms";
import { ApiFailure, api } from "../lib/api";

export type { Mechanism };
export type { PasskeyMode } from "../../domain/vocabulary";
export type Pool = z.infer<typeof poolSchemas.Pool>;
export type PoolInput = z.input<typeof poolSchemas.PoolInput>;
export type PoolUpdate = z.input<typeof poolSchemas.PoolUpdate>;
export type Workspace = z.infer<typeof workspaceSchemas.Workspace>;
export type WorkspaceInput = z.input<typeof workspaceSchemas.WorkspaceInput>;
export type WorkspaceUpdate = z.input<typeof workspaceSchemas.WorkspaceUpdate>;
export type User = z.infer<typeof userSchemas.User>;
export type UserInput = z.input<typeof userSchemas.UserInput>;
export type UserWithData = z.infer<typeof userSchemas.UserWithData>;
export type IdentifierType = UserInput["identifiers"][number]["type"];

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

/** The API's message for a field, without the field's own name in front: "relying_party_id must not …" → "Must not …". */
export function fieldMessage(message: string, field: string): string {
  const leaf = field.split(".").pop() ?? field;
  const rest = message.startsWith(`${leaf} `) ? message.slice(leaf.length + 1) : message;
  return `${rest.charAt(0).toUpperCase()}${rest.slice(1)}${/[.!?]$/.test(rest) ? "" : "."}`;
}

/**
 * Where a failed save belongs: the key of `fields` whose name the API's details.field starts with (e.g.
 * "identifiers.0.identifier" → "identifiers"), or undefined for the status region only.
 */
export function fieldOf<K extends string>(e: unknown, fields: readonly K[]): { key: K; message: string } | undefined {
  if (!(e instanceof ApiFailure) || !e.field) return undefined;
  const name = e.field;
  const key = fields.find((f) => name === f || name.startsWith(`${f}.`));
  return key ? { key, message: fieldMessage(e.message, name) } : undefined;
}

/** The error_code of a failed call, or undefined for anything else. */
export const codeOf = (e: unknown) => (e instanceof ApiFailure ? e.code : undefined);

export const enc = encodeURIComponent;
