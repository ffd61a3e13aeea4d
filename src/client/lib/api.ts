/** fetch wrapper for the JSON API: throws ApiFailure with the contract's error body. */
import type { ErrorCode } from "../../errors";

/**
 * The code of a failed call: one of the service's error codes, or the browser's own: "error" when the answer carried
 * none, "network_error" when there was no answer (status 0).
 */
export type FailureCode = ErrorCode | "error" | "network_error";

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: FailureCode,
    message: string,
    readonly headers: Headers,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  /** The configuration field a 422 names (details.field), or the first field of a 400 (details.fields). */
  get field(): string | undefined {
    if (typeof this.details.field === "string") return this.details.field;
    const fields = this.details.fields;
    return Array.isArray(fields) && typeof fields[0]?.field === "string" ? (fields[0].field as string) : undefined;
  }
}

export async function api<T>(method: string, path: string, body?: unknown, token?: string | null): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const details = json.details && typeof json.details === "object" ? (json.details as Record<string, unknown>) : {};
    throw new ApiFailure(res.status, json.error_code ?? "error", json.error ?? res.statusText, res.headers, details);
  }
  return json as T;
}
