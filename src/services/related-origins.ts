/**
 * Related origins (WebAuthn L3 §5.11): what `https://{rpId}/.well-known/webauthn` lists, so that browsers let an origin
 * on another registrable domain use the passkeys of RP ID `rpId`. The request's host is the RP ID asked about; the
 * pools with that RP ID answer together, but only those of ONE tenant: the tenant of the oldest such pool (first claim
 * wins). Otherwise any tenant could name another tenant's domain as its RP ID and publish its own origins there (a
 * phishing page that shows that domain's passkeys); a later claim cannot change what the first claimant published.
 * A pool's empty RP ID stands for the service's own host (its pools cannot list origins: they need an RP ID).
 */
import { relatedOrigins } from "../domain/relying-party";
import { ApiError, notFound } from "../errors";
import { poolOriginsByRpId } from "../repo/pools";
import type { Call } from "./call";

/** The service's host name, or "" when it has none (production without a valid ISSUER_BASE_URL). */
function serviceHost(call: Call): string {
  try {
    return call.origin().hostname;
  } catch (e) {
    // A pool with an explicit RP ID does not need the service's origin; without one, no pool's empty RP ID matches.
    if (e instanceof ApiError && e.code === "not_configured") return "";
    throw e;
  }
}

/**
 * The union (oldest pool first, no duplicates) of the configured origins that are not on `host`'s domain, of the first
 * claimant tenant's pools whose RP ID is `host`; 404 when no pool's RP ID is `host`. One D1 round trip.
 */
export async function relatedOriginsOf(call: Call, host: string): Promise<{ origins: string[] }> {
  const rpId = host.toLowerCase();
  const { pools, emptyRpId } = await poolOriginsByRpId(call.env.DB, rpId, rpId === serviceHost(call));
  if (pools.length === 0 && !emptyRpId) throw notFound("relying party");
  const claimant = pools[0]?.tenantId;
  const mine = pools.filter((p) => p.tenantId === claimant);
  return { origins: [...new Set(mine.flatMap((p) => relatedOrigins(p.origins, rpId)))] };
}
