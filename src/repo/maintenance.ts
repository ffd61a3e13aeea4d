/** Purges of expired rows, run by the cron trigger. */
import { lt } from "drizzle-orm";
import { orm } from "../db/client";
import { consumedChallenges, oneTimeCodes, rateCounters } from "../db/schema";

export async function purgeExpired(d1: D1Database, now: number): Promise<{ challenges: number; codes: number; counters: number }> {
  const db = orm(d1);
  const [ch, codes, counters] = await db.batch([
    db.delete(consumedChallenges).where(lt(consumedChallenges.expiresAt, now)),
    db.delete(oneTimeCodes).where(lt(oneTimeCodes.expiresAt, now)),
    db.delete(rateCounters).where(lt(rateCounters.expiresAt, now)),
  ]);
  return { challenges: ch.meta.changes, codes: codes.meta.changes, counters: counters.meta.changes };
}
