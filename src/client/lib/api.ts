/** fetch wrapper for the JSON API: throws ApiFailure with the contract's error body. */
export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Headers) {
    super(message);
  }
}

export async function api<T>(method: string, path: string, body?: unknown, token?: string | null): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 204) return undefined as T;
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiFailure(res.status, json.error_code ?? "error", json.error ?? res.statusText, res.headers);
  return json as T;
}
