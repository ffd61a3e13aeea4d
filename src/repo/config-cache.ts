/**
 * An isolate cache of workspace configuration: the workspace, its pools' rows (in the workspace's order) and the
 * origins the CORS middlewares allow (the pools' `relying_party_origins`, the OIDC clients' redirect-URI origins).
 * Sign-in, the login config, the hosted pages and CORS read it instead of D1 (issue 11: 0 D1 round trips for Smart
 * options).
 *
 * It lives in repo/ because it is a read-through of storage: it takes the D1 binding like every repo function and
 * knows nothing of calls or HTTP; the services that write configuration drop the tenant's entries after each write.
 *
 * - An entry lives TTL.config (30 s), judged by the caller's `now` (an entry from the caller's future is stale too).
 *   That is the delay before a change made through another isolate applies everywhere; this isolate's own writes
 *   (services/pools.ts, workspaces.ts, oidc-clients.ts) drop the tenant's entries at once.
 * - Unknown workspaces are not cached: the key would be the caller's choice (memory), and a workspace created in
 *   another isolate must work at once.
 * - Concurrent misses share one read; a failed read is not kept. At most MAX_ENTRIES entries (oldest dropped first).
 * - JSON columns are parsed once, when the entry is made; entries are frozen, so no caller can change them for others.
 */
import { TTL } from "../domain/ttl";
import type { PoolRow } from "./pools";
import { readWorkspaceConfig, type WorkspaceRow } from "./workspaces";

export interface WorkspaceConfig {
  workspace: WorkspaceRow;
  /** The pools' rows in the workspace's order. */
  pools: PoolRow[];
  poolsById: ReadonlyMap<string, PoolRow>;
  /** Origins listed in `relying_party_origins` of the workspace's pools (CORS of the sign-in and self-service APIs). */
  poolOrigins: ReadonlySet<string>;
  /** http(s) origins of the redirect URIs of the workspace's OIDC clients (CORS of token, revocation, userinfo). */
  clientOrigins: ReadonlySet<string>;
}

interface Entry {
  loadedAt: number;
  config: Promise<WorkspaceConfig | undefined>;
}

const MAX_ENTRIES = 1000;
const entries = new Map<string, Entry>();
const keyOf = (tenantId: string, workspaceId: string) => `${tenantId}\u0000${workspaceId}`;

function originOf(uri: string): string | null {
  try {
    const u = new URL(uri);
    return u.protocol === "https:" || u.protocol === "http:" ? u.origin : null;
  } catch {
    return null;
  }
}

function freezePool(p: PoolRow): PoolRow {
  Object.freeze(p.mechanisms);
  Object.freeze(p.secondFactorMechanisms);
  Object.freeze(p.rpOrigins);
  Object.freeze(p.otpSettings);
  Object.freeze(p.aaguidAllow);
  Object.freeze(p.aaguidDeny);
  return Object.freeze(p);
}

async function load(d1: D1Database, tenantId: string, workspaceId: string): Promise<WorkspaceConfig | undefined> {
  // Configuration may come from a nearby read replica (D1 Sessions API, "first-unconstrained": no ordering wanted),
  // because it is already allowed to be up to TTL.config old. Nothing a security decision rests on is read here:
  // credentials, users, codes, consumed challenges, counters, sessions and refresh tokens stay on the primary (env.DB).
  const rows = await readWorkspaceConfig(d1.withSession("first-unconstrained"), tenantId, workspaceId);
  if (!rows) return undefined;
  const pools = Object.freeze(rows.pools.map(freezePool)) as PoolRow[];
  Object.freeze(rows.workspace.mechanisms);
  return Object.freeze({
    workspace: Object.freeze(rows.workspace),
    pools,
    poolsById: new Map(pools.map((p) => [p.id, p])),
    poolOrigins: new Set(pools.flatMap((p) => p.rpOrigins)),
    clientOrigins: new Set(rows.clientRedirectUris.map(originOf).filter((o): o is string => o !== null)),
  });
}

/** The workspace's configuration, from this isolate's cache when it is at most TTL.config old; undefined when unknown. */
export function workspaceConfig(d1: D1Database, tenantId: string, workspaceId: string, now: number): Promise<WorkspaceConfig | undefined> {
  const key = keyOf(tenantId, workspaceId);
  const hit = entries.get(key);
  if (hit && now >= hit.loadedAt && now - hit.loadedAt < TTL.config * 1000) return hit.config;
  const entry: Entry = { loadedAt: now, config: load(d1, tenantId, workspaceId) };
  entries.delete(key);
  if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value ?? "");
  entries.set(key, entry);
  entry.config.then(
    (config) => {
      if (!config && entries.get(key) === entry) entries.delete(key);
    },
    () => {
      if (entries.get(key) === entry) entries.delete(key);
    },
  );
  return entry.config;
}

/**
 * Drops the tenant's entries: call it after any write to its pools, workspaces or OIDC clients (also when the write
 * failed: it may have taken effect). A read that started before is not put back.
 */
export function forgetTenantConfig(tenantId: string): void {
  const prefix = `${tenantId}\u0000`;
  for (const key of [...entries.keys()]) if (key.startsWith(prefix)) entries.delete(key);
}

/** Runs a configuration write of the tenant, then drops its cached configuration, whatever the outcome. */
export function configWrite<T>(tenantId: string, write: Promise<T>): Promise<T> {
  return write.finally(() => forgetTenantConfig(tenantId));
}

/** Empties the cache (tests that write configuration to D1 directly). */
export function resetConfigCache(): void {
  entries.clear();
}
