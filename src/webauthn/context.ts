/** What a ceremony needs to know about the request it serves, without knowing HTTP. */
import { fromB64url } from "../crypto/bytes";
import type { PoolRow } from "../repo/pools";

export interface RequestContext {
  /** The service's own origin for this request, e.g. "https://id.example.com" (default expected origin). */
  origin: string;
  /** Its host name (default RP ID). */
  hostname: string;
}

export const SUPPORTED_ALGORITHMS = [-7, -8, -257]; // ES256, EdDSA, RS256

/** The pool's RP ID, or the request's host name when the pool leaves it empty. */
export const rpIdFor = (pool: PoolRow, ctx: RequestContext) => pool.rpId || ctx.hostname;

/** The pool's origins, or the request's origin when the pool lists none. */
export const originsFor = (pool: PoolRow, ctx: RequestContext) => (pool.rpOrigins.length ? pool.rpOrigins : [ctx.origin]);

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin?: boolean;
}

/** Decodes clientDataJSON; null when it is not base64url JSON with string type, challenge and origin. */
export function parseClientData(b64: string): ClientData | null {
  const bytes = fromB64url(b64);
  if (!bytes) return null;
  try {
    const cd = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes)) as Record<string, unknown>;
    if (typeof cd.type !== "string" || typeof cd.challenge !== "string" || typeof cd.origin !== "string") return null;
    if (cd.crossOrigin !== undefined && typeof cd.crossOrigin !== "boolean") return null;
    return cd as unknown as ClientData;
  } catch {
    return null;
  }
}
