/** The client-credentials grant: authenticate a system client, check the scope, sign an access token. */
import { TTL } from "../domain/ttl";
import { ApiError, notFound } from "../errors";
import { tenantExists } from "../repo/tenants";
import type { Call } from "./call";
import { authenticateClient } from "./clients";
import { takeClientAuthAttempt } from "./limits";
import { issuerFor, signAccessToken } from "../crypto/jwt";

export interface TokenRequest {
  grantType: string | undefined;
  scope: string | undefined;
  clientId: string;
  clientSecret: string;
  /** How the client authenticated, so a failure can name the right WWW-Authenticate scheme. */
  method: "basic" | "post";
}

/** The client-credentials grant for the call's tenant: an access token, or 400/401/404 as the contract says. */
export async function createSystemToken(call: Call, req: TokenRequest) {
  const { env, tenantId, now } = call;
  const { issuerBase } = call.origin();
  if (req.grantType !== "client_credentials") {
    throw new ApiError("unsupported_grant_type", "grant_type must be client_credentials", { field: "grant_type" });
  }
  // Abuse limit: a slot per client authentication (429 once the client's failures fill the window), given back on success.
  const slot = await takeClientAuthAttempt(call, req.clientId);
  const allowed = await authenticateClient(call, req.clientId, req.clientSecret);
  if (allowed) await slot.release();
  if (!allowed) {
    throw new ApiError(
      "invalid_client",
      "client authentication failed",
      {},
      req.method === "basic" ? { "www-authenticate": `Basic realm="passkey-edge"` } : {},
    );
  }
  if (!(await tenantExists(env.DB, tenantId))) throw notFound("tenant");
  const requested = req.scope === undefined ? allowed : req.scope.split(" ").filter(Boolean);
  const unknown = requested.filter((s) => !allowed.includes(s));
  if (requested.length === 0 || unknown.length) {
    throw new ApiError("invalid_scope", `scope not allowed for this client: ${unknown.join(" ") || "(empty)"}`, { allowed });
  }
  const scope = [...new Set(requested)].join(" ");
  const token = await signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    issuerFor(issuerBase, tenantId),
    { sub: req.clientId, tid: tenantId, scope, client_id: req.clientId },
    TTL.systemToken,
    now,
  );
  return { access_token: token, token_type: "Bearer" as const, expires_in: TTL.systemToken, scope };
}
