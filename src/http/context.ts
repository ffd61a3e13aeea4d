/** Bridges from Hono's context to what services need, so services know nothing of HTTP. */
import type { Context } from "hono";
import type { RequestContext } from "../ceremony/context";
import type { AppEnv } from "../env";

export function requestContext(c: Context<AppEnv>): RequestContext {
  const url = new URL(c.req.url);
  return { origin: url.origin, hostname: url.hostname };
}

/** "system:<client>" or "user:<id>", for audit events. */
export function actorOf(c: Context<AppEnv>): string {
  const p = c.get("auth");
  if (!p) return "anonymous";
  return p.claims.client_id ? `system:${p.subject}` : `user:${p.subject}`;
}
