/** Bridges from Hono's context to what services need, so services know nothing of HTTP. */
import type { Env } from "../env";
import type { Call } from "../services/call";
import { type ServiceOrigin, serviceOrigin } from "../services/origin";
import type { Principal } from "./principal";

/** What the bridge reads of a Hono context, whatever its variables: the bindings, the URL and the principal, if any. */
interface CallSource {
  env: Env;
  req: { url: string };
  var: { auth?: Principal };
  executionCtx: { waitUntil(p: Promise<unknown>): void };
}

/** "system:<client>" or "user:<id>" for a token's principal, "anonymous" without one; for audit events. */
function actorOf(c: CallSource): string {
  const p = c.var.auth;
  if (!p) return "anonymous";
  // A user's token from a workspace client carries client_id too, and pool_id: it acts for the user.
  return p.claims.client_id && !p.claims.pool_id ? `system:${p.subject}` : `user:${p.subject}`;
}

/** The Call of this request in tenant `tenantId`: the clock read once, the service's origin read when first needed. */
export function callOf(c: CallSource, tenantId: string): Call {
  let origin: ServiceOrigin | undefined;
  return {
    env: c.env,
    tenantId,
    actor: actorOf(c),
    now: Date.now(),
    origin: () => {
      origin ??= serviceOrigin(c.env, c.req.url);
      return origin;
    },
    defer: (work) => {
      try {
        c.executionCtx.waitUntil(work);
      } catch {
        // No execution context (the app called directly, as some tests do): the work runs on regardless.
      }
    },
  };
}
