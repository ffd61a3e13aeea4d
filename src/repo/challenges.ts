/**
 * Ceremony challenges in KV (binding CHALLENGES), key `challenge:<challenge>`. KV is eventually consistent, so a
 * record here only says what was issued; single use is committed in D1 (consumed_challenges) by the ceremony.
 */
import { TTL } from "../domain/ttl";
import type { PasskeyMode } from "../domain/vocabulary";

export interface ChallengeRecord {
  challenge: string;
  tenantId: string;
  poolId: string;
  /** The user the ceremony is for ("" for Smart sign-in, where the user is not known yet). */
  userId: string;
  purpose: "register" | "authenticate";
  mode: PasskeyMode;
  /** The RP ID the options named; verification fails if the pool's RP ID changed since. */
  rpId: string;
  /** Credential ids the ceremony allowed (Classic sign-in); empty = any. */
  allowCredentials?: string[];
  /** Extra binding, e.g. the workspace or sign-in transaction. */
  context?: Record<string, string>;
  expiresAt: number;
}

const key = (challenge: string) => `challenge:${challenge}`;

export async function putChallenge(kv: KVNamespace, rec: ChallengeRecord): Promise<void> {
  // KV's expirationTtl floor is 60 s; the expiry is also checked in code against expiresAt.
  await kv.put(key(rec.challenge), JSON.stringify(rec), { expirationTtl: Math.max(60, TTL.challenge) });
}

export async function getChallenge(kv: KVNamespace, challenge: string): Promise<ChallengeRecord | null> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(challenge)) return null;
  return kv.get<ChallengeRecord>(key(challenge), "json");
}
