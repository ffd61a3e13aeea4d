/**
 * Abuse limits: the functions services call (no HTTP here; definitions and defaults in src/domain/limits.ts).
 *
 * Counted limits take a slot BEFORE the guarded check (password, client secret) and give it back when the check
 * succeeds, so only failures stay counted and parallel attempts cannot run more checks than the limit allows. The
 * one-time code's check runs with its counter in one batch instead (wrongCodeCounter): there the check and the count
 * are one transaction, so only wrong codes are counted at all.
 * A refusal is 429 rate_limited with Retry-After (seconds until the counter's window ends).
 */
import {
  CLIENT_AUTH_FAILURES,
  counterKeys,
  OTP_FAILURES,
  OTP_REQUESTS,
  PASSWORD_FAILURES,
  retryAfterSeconds,
  SIGNIN_IP,
  type CounterLimit,
} from "../domain/limits";
import { ApiError } from "../errors";
import type { WrongCodeCounter } from "../repo/codes";
import { refund, reserve, type CounterRef } from "../repo/counters";
import type { PoolRow } from "../repo/pools";
import type { Call } from "./call";

export const rateLimited = (limit: string, retryAfter: number) =>
  new ApiError(
    "rate_limited",
    "too many requests; try again later",
    { limit, retry_after: retryAfter },
    { "retry-after": String(retryAfter) },
  );

/** A taken slot: `release` gives it back (the guarded check succeeded, so it was no failure). */
export interface Slot {
  release(): Promise<void>;
}

type PoolLimits = Pick<PoolRow, "passwordFailures" | "otpRequestsPerHour" | "otpFailuresPerDay">;

/** The pool's value for a per-pool limit, or the default when the pool has none in range. */
export function poolLimit(pool: PoolLimits | undefined, def: CounterLimit): number {
  const v =
    pool && def === PASSWORD_FAILURES
      ? pool.passwordFailures
      : pool && def === OTP_REQUESTS
        ? pool.otpRequestsPerHour
        : pool && def === OTP_FAILURES
          ? pool.otpFailuresPerDay
          : undefined;
  const r = def.poolField;
  return v !== undefined && r && Number.isInteger(v) && v >= r.min && v <= r.max ? v : def.defaultLimit;
}

interface Who {
  poolId?: string | null;
  userId?: string | null;
  actor: string;
}

async function take(call: Call, def: CounterLimit, limit: number, key: string, who: Who): Promise<Slot> {
  const { tenantId, now } = call;
  const c: CounterRef = { tenantId, key };
  const audit = {
    tenantId,
    ...who,
    type: "rate_limited" as const,
    details: { limit: def.name, max: limit, window_seconds: def.windowMs / 1000 },
  };
  const r = await reserve(call.env.DB, c, limit, def.windowMs, now, audit);
  if (!r.ok) throw rateLimited(def.name, retryAfterSeconds(r.expiresAt, now));
  return { release: () => refund(call.env.DB, c, r.expiresAt) };
}

/**
 * One password attempt for an identifier (normalised key) signing in to a workspace. The counter is the tenant's for
 * that identifier, and the limit is the strictest of the workspace's pools, so the answer is the same whether the
 * identifier belongs to a user of either pool or to nobody (no enumeration through the lockout). Audited as
 * "anonymous": nobody is signed in yet.
 */
export function takePasswordAttempt(
  call: Call,
  pools: readonly PoolRow[],
  identifierKey: string,
  who: { poolId?: string; userId?: string },
): Promise<Slot> {
  const limit = pools.length ? Math.min(...pools.map((p) => poolLimit(p, PASSWORD_FAILURES))) : PASSWORD_FAILURES.defaultLimit;
  return take(call, PASSWORD_FAILURES, limit, counterKeys.password(identifierKey), {
    poolId: who.poolId ?? null,
    userId: who.userId ?? null,
    actor: "anonymous",
  });
}

/**
 * One code request: counted on the user when known, else on the lookup (kind and normalised value), so a request
 * for nobody is limited exactly like one for a user. Requests are never given back.
 */
export async function countCodeRequest(
  call: Call,
  pool: PoolRow,
  target: { userId: string } | { kind: string; value: string },
): Promise<void> {
  const key =
    "userId" in target ? counterKeys.otpRequestsUser(target.userId) : counterKeys.otpRequestsLookup(pool.id, target.kind, target.value);
  await take(call, OTP_REQUESTS, poolLimit(pool, OTP_REQUESTS), key, {
    poolId: pool.id,
    userId: "userId" in target ? target.userId : null,
    actor: call.actor,
  });
}

/**
 * The per-user daily wrong-code limit, for a code check that runs as conditional statements of one batch
 * (repo/codes.ts codeCheckStmts): the pool's limit is read in SQL there, with this range and default (as poolLimit).
 * Only wrong codes are counted; a full window refuses every check (429, as `take`).
 */
export function wrongCodeCounter(userId: string): WrongCodeCounter {
  const range = OTP_FAILURES.poolField ?? { min: OTP_FAILURES.defaultLimit, max: OTP_FAILURES.defaultLimit };
  return {
    key: counterKeys.otpFailuresUser(userId),
    name: OTP_FAILURES.name,
    windowMs: OTP_FAILURES.windowMs,
    min: range.min,
    max: range.max,
    fallback: OTP_FAILURES.defaultLimit,
  };
}

/** One client authentication at the token endpoint (per client and tenant); release it when the secret was right. */
export function takeClientAuthAttempt(call: Call, clientId: string): Promise<Slot> {
  return take(call, CLIENT_AUTH_FAILURES, CLIENT_AUTH_FAILURES.defaultLimit, counterKeys.client(clientId), {
    actor: `system:${clientId}`,
  });
}

/**
 * The per-IP sign-in limit (Workers Rate Limiting binding SIGNIN_IP_LIMITER; limit and period are its wrangler.toml
 * config). Skipped when the binding is not configured or the request carries no client IP (Cloudflare always sets
 * CF-Connecting-IP; only local tools call without it). A failing binding lets the request through (logged).
 */
export async function checkSigninIp(limiter: RateLimit | undefined, ip: string | undefined): Promise<void> {
  if (!limiter || !ip) return;
  let outcome: RateLimitOutcome;
  try {
    outcome = await limiter.limit({ key: `ip:${ip}` });
  } catch (e) {
    console.error("rate limiter failed:", e instanceof Error ? e.message : "unknown error");
    return;
  }
  if (!outcome.success) throw rateLimited(SIGNIN_IP.name, SIGNIN_IP.periodSeconds);
}
