/** sign-in transactions in KV (binding CHALLENGES), key `login:<login_id>`, TTL 10 minutes (TTL.signin). */
import type { ProvenFactor } from "../domain/oidc";
import { TTL } from "../domain/ttl";

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
  expiresAt: number;
}

const key = (id: string) => `login:${id}`;

export async function putSigninTransaction(kv: KVNamespace, tx: SigninTransaction): Promise<void> {
  await kv.put(key(tx.id), JSON.stringify(tx), { expirationTtl: TTL.signin });
}

export async function getSigninTransaction(kv: KVNamespace, id: string, now: number): Promise<SigninTransaction | null> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return null;
  const tx = await kv.get<SigninTransaction>(key(id), "json");
  return tx && tx.expiresAt > now ? tx : null;
}

export async function deleteSigninTransaction(kv: KVNamespace, id: string): Promise<void> {
  await kv.delete(key(id));
}
