/**
 * Sign-in transactions in KV (binding CHALLENGES), key `login:<login_id>`, TTL 10 minutes (TTL.signin). One record
 * holds the transaction and the WebAuthn challenge of its current passkey step, so options write one KV record and
 * finish reads one. KV is eventually consistent: the record says what was issued; single use of the challenge is
 * committed in D1 (consumed_challenges) by the finish. A record of an older shape (no `challenge`) fails closed.
 */
import type { ProvenFactor } from "../domain/oidc";
import type { PasskeyMode } from "../domain/vocabulary";

/** The challenge a passkey options answer issued, and what its assertion must match (WebAuthn §7.2). */
export interface SigninChallenge {
  challenge: string;
  /** The RP ID the options named; verification fails if the pool's RP ID changed since. */
  rpId: string;
  mode: PasskeyMode;
  /** The user the step is for ("" when unknown: Smart sign-in, or a Classic identifier answered with a decoy). */
  userId: string;
  /** Credential ids the options allowed (Classic and second factor); empty = any. */
  allowCredentials: string[];
  expiresAt: number;
}

export interface SigninTransaction {
  id: string;
  tenantId: string;
  workspaceId: string;
  scope: string;
  /** Factors already proven, e.g. ["pwd"] after the password step. */
  amr: string[];
  /** The factors proven so far with their passkey flags (amr/acr of an OIDC provider session); older records lack it. */
  factors?: ProvenFactor[];
  /** Set once a first factor identified the user. */
  userId?: string;
  poolId?: string;
  /** What the transaction waits for. */
  next: "passkey" | "second_factor";
  /** The challenge of the pending passkey step; absent once a factor passed (a new options call issues another). */
  challenge?: SigninChallenge;
  expiresAt: number;
}

const key = (id: string) => `login:${id}`;

/** Writes the transaction; KV keeps it until its own expiry (at least KV's 60 s floor). */
export async function putSigninTransaction(kv: KVNamespace, tx: SigninTransaction, now: number): Promise<void> {
  await kv.put(key(tx.id), JSON.stringify(tx), { expirationTtl: Math.max(60, Math.ceil((tx.expiresAt - now) / 1000)) });
}

export async function getSigninTransaction(kv: KVNamespace, id: string, now: number): Promise<SigninTransaction | null> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return null;
  const tx = await kv.get<SigninTransaction>(key(id), "json");
  return tx && tx.expiresAt > now ? tx : null;
}
