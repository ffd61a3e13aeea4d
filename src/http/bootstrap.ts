/**
 * The bootstrap client's guard: tenants and system clients are managed only with a token that the token endpoint
 * (of any tenant) issued to SYSTEM_CLIENT_ID. Such a token is recognised by its claims: `client_id` and `sub` equal
 * the configured SYSTEM_CLIENT_ID and it names no workspace (user tokens do). authenticateClient checks the
 * bootstrap id before stored clients, so no stored client can obtain a token with that client_id. Any other valid
 * token (a stored client's, an administrator's) is 403 insufficient_scope.
 */
import type { Context, MiddlewareHandler } from "hono";
import type { Env } from "../env";
import type { AppEnv } from "./principal";
import { ApiError } from "../errors";
import { authenticate } from "./bearer";
import type { Principal } from "./principal";

export function isBootstrap(env: Env, p: Principal): boolean {
  const id = env.SYSTEM_CLIENT_ID;
  if (!id || !env.SYSTEM_CLIENT_SECRET) return false;
  return (
    p.claims.client_id === id &&
    p.subject === id &&
    p.claims.wid === undefined &&
    p.claims.pool_id === undefined &&
    p.scopes.has("identity")
  );
}

/** After requireScope (it reuses the principal) or alone (it authenticates the token of any tenant). */
export const requireBootstrap: MiddlewareHandler<AppEnv> = async (c: Context<AppEnv>, next) => {
  const principal = c.get("auth") ?? (await authenticate(c, Date.now()));
  if (!isBootstrap(c.env, principal)) {
    throw new ApiError(
      "insufficient_scope",
      "only the bootstrap system client may call this endpoint",
      { required_client: "bootstrap" },
      {
        "www-authenticate": `Bearer realm="passkey-edge", error="insufficient_scope", scope="identity"`,
      },
    );
  }
  c.set("auth", principal);
  await next();
};
