/** The signed-in user's access token, kept in sessionStorage per tenant and workspace (never in a cookie or URL). */
export interface Claims {
  sub: string;
  tid: string;
  wid: string;
  pool_id: string;
  scope: string;
  auth_time: number;
  exp: number;
  amr?: string[];
}

const key = (tid: string, wid: string) => `passkey-edge:${tid}:${wid}`;

export function saveToken(tid: string, wid: string, token: string): void {
  sessionStorage.setItem(key(tid, wid), token);
}

export function clearToken(tid: string, wid: string): void {
  sessionStorage.removeItem(key(tid, wid));
}

function decode(token: string): Claims | null {
  try {
    const part = token.split(".")[1] ?? "";
    return JSON.parse(atob(part.replace(/-/g, "+").replace(/_/g, "/"))) as Claims;
  } catch {
    return null;
  }
}

/** The stored token and its claims, or null when absent or expired. */
export function loadToken(tid: string, wid: string): { token: string; claims: Claims } | null {
  const token = sessionStorage.getItem(key(tid, wid));
  const claims = token ? decode(token) : null;
  if (!token || !claims || claims.exp * 1000 <= Date.now()) return null;
  return { token, claims };
}

/** Seconds since the user signed in (auth_time). */
export const authAge = (claims: Claims) => Math.floor(Date.now() / 1000) - claims.auth_time;

/** A same-origin path to go to after sign-in, or null (no scheme, no host, no protocol-relative //). */
export function safeReturnTo(value: string | null): string | null {
  if (!value?.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return null;
  try {
    const url = new URL(value, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : null;
  } catch {
    return null;
  }
}
