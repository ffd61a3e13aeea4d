/** Purges of expired rows, run by the cron trigger (one batch). */
import { lt } from "drizzle-orm";
import { orm } from "../db/client";
import { consumedChallenges, oidcCodes, oidcRefreshTokens, oidcSessions, oneTimeCodes, rateCounters, signups } from "../db/schema";

export interface Purged {
  challenges: number;
  codes: number;
  counters: number;
  /** OIDC authorization codes (consumed or not) past their expiry. */
  authorizationCodes: number;
  /** Provider sessions past their expiry. */
  sessions: number;
  /** Refresh tokens past their expiry, whether live, rotated or revoked. */
  refreshTokens: number;
}

export async function purgeExpired(d1: D1Database, now: number): Promise<Purged> {
  const db = orm(d1);
  const [ch, codes, counters, authorizationCodes, sessions, refreshTokens] = await db.batch([
    db.delete(consumedChallenges).where(lt(consumedChallenges.expiresAt, now)),
    db.delete(oneTimeCodes).where(lt(oneTimeCodes.expiresAt, now)),
    db.delete(rateCounters).where(lt(rateCounters.expiresAt, now)),
    db.delete(oidcCodes).where(lt(oidcCodes.expiresAt, now)),
    db.delete(oidcSessions).where(lt(oidcSessions.expiresAt, now)),
    db.delete(oidcRefreshTokens).where(lt(oidcRefreshTokens.expiresAt, now)),
    // Pending sign-ups (they hold an email address): sign-up requests purge them too.
    db.delete(signups).where(lt(signups.expiresAt, now)),
  ]);
  return {
    challenges: ch.meta.changes,
    codes: codes.meta.changes,
    counters: counters.meta.changes,
    authorizationCodes: authorizationCodes.meta.changes,
    sessions: sessions.meta.changes,
    refreshTokens: refreshTokens.meta.changes,
  };
}
