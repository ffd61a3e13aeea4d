/**
 * The service's own origin: the one rule for the token issuer, the default RP ID and the default expected origin.
 * Configuration policy, not HTTP: services read it through `call.origin()` (src/services/call.ts), which runs it only
 * when a service needs it.
 */
import { checkOrigin, checkRpId } from "../domain/relying-party";
import type { Env } from "../env";
import { ApiError } from "../errors";
import type { RequestContext } from "../webauthn/context";

export interface ServiceOrigin extends RequestContext {
  /** Base of the token issuer (`{issuerBase}/{tid}`): ISSUER_BASE_URL without trailing slashes, or the origin. */
  issuerBase: string;
}

const notConfigured = (message: string) => new ApiError("not_configured", message, {}, { "retry-after": "60" });

/**
 * With ISSUER_BASE_URL it comes from that URL only, never from the request (whose host is the client's Host header).
 * Without it, development uses the request origin; production refuses (503 not_configured), as it does for a
 * malformed ISSUER_BASE_URL (absolute https URL with a domain name, or http://localhost in development; a path is
 * allowed, no query, fragment or credentials).
 */
export function serviceOrigin(env: Pick<Env, "ENVIRONMENT" | "ISSUER_BASE_URL">, requestUrl: string): ServiceOrigin {
  const development = env.ENVIRONMENT === "development";
  const configured = env.ISSUER_BASE_URL?.trim();
  if (!configured) {
    if (!development) throw notConfigured("ISSUER_BASE_URL is not set: it is required outside development");
    const url = new URL(requestUrl);
    return { origin: url.origin, hostname: url.hostname, issuerBase: url.origin };
  }
  const invalid = () => notConfigured("ISSUER_BASE_URL is invalid: it must be an absolute https URL (http://localhost in development)");
  let url: URL;
  try {
    url = new URL(configured);
  } catch {
    throw invalid();
  }
  if (url.username || url.password || url.search || url.hash || configured.includes("?") || configured.includes("#")) throw invalid();
  if (url.protocol === "http:" && !development) throw invalid();
  if (!checkOrigin(url.origin, url.hostname).ok || !checkRpId(url.hostname).ok) throw invalid();
  return { origin: url.origin, hostname: url.hostname, issuerBase: `${url.origin}${url.pathname.replace(/\/+$/, "")}` };
}
