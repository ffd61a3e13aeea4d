/** Test helpers: every request goes through the Worker's real entrypoint (SELF.fetch). */
import { SELF, env } from "cloudflare:test";
import { expect } from "vitest";

export const ORIGIN = "http://localhost:8787";
export const CLIENT = { id: env.SYSTEM_CLIENT_ID!, secret: env.SYSTEM_CLIENT_SECRET! };

export function basic(id: string, secret: string): string {
  return `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`;
}

export async function requestToken(tid: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return SELF.fetch(`${ORIGIN}/${tid}/system/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

const tokens = new Map<string, string>();

/** A system token (scope identity) for the tenant, from the bootstrap client. */
export async function systemToken(tid = "default"): Promise<string> {
  const cached = tokens.get(tid);
  if (cached) return cached;
  const res = await requestToken(
    tid,
    { grant_type: "client_credentials", scope: "identity" },
    { authorization: basic(CLIENT.id, CLIENT.secret) },
  );
  expect(res.status).toBe(200);
  const { access_token } = (await res.json()) as { access_token: string };
  tokens.set(tid, access_token);
  return access_token;
}

export interface CallOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: BodyInit;
  headers?: Record<string, string>;
}

/** Calls the system API of tenant `tid` (path relative to /api/identity/{tid}/system). */
export async function sys(method: string, path: string, opts: CallOptions & { tid?: string } = {}): Promise<Response> {
  const tid = opts.tid ?? "default";
  return call(method, `/api/identity/${tid}/system${path}`, {
    ...opts,
    token: opts.token === undefined ? await systemToken(tid) : opts.token,
  });
}

export async function call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: BodyInit | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["content-type"] ??= "application/json";
  }
  return SELF.fetch(`${ORIGIN}${path}`, { method, headers, body });
}

export type ErrorBody = { status_code: number; error: string; error_code: string; details: Record<string, unknown> };

/** An OAuth endpoint's error (RFC 6749 §5.2 body plus the project's fields): status, code, no-store; returns the body. */
export async function expectOAuthError(res: Response, status: number, error: string): Promise<ErrorBody & { error_description: string }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  const body = JSON.parse(text) as ErrorBody & { error_description: string };
  expect(Object.keys(body).sort()).toEqual(["details", "error", "error_code", "error_description", "status_code"]);
  expect(body).toMatchObject({ error, error_code: error, status_code: status });
  expect(typeof body.error_description).toBe("string");
  return body;
}

/** Asserts the contract's error shape, status and code; returns the body. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorBody> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(Object.keys(body).sort()).toEqual(["details", "error", "error_code", "status_code"]);
  expect(body.status_code).toBe(status);
  expect(body.error_code).toBe(code);
  expect(typeof body.error).toBe("string");
  return body;
}

export async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return JSON.parse(text) as T;
}

let n = 0;
/** A unique id for objects made by a test. */
export const uid = (prefix = "t") => `${prefix}-${Date.now().toString(36)}-${(n++).toString(36)}`;
