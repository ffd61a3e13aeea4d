/** Login transactions in KV (binding CHALLENGES), key `login:<login_id>`, TTL 10 minutes (TTL.login). */
import { TTL } from "../domain/ttl";

export interface LoginTransaction {
  id: string;
  tenantId: string;
  workspaceId: string;
  scope: string;
  /** Factors already proven, e.g. ["pwd"] after the password step. */
  amr: string[];
  /** Set once a first factor identified the user. */
  userId?: string;
  poolId?: string;
  /** What the transaction waits for. */
  next: "passkey" | "second_factor";
  expiresAt: number;
}

const key = (id: string) => `login:${id}`;

export async function putLogin(kv: KVNamespace, tx: LoginTransaction): Promise<void> {
  await kv.put(key(tx.id), JSON.stringify(tx), { expirationTtl: TTL.login });
}

export async function getLogin(kv: KVNamespace, id: string, now: number): Promise<LoginTransaction | null> {
  if (!/^[A-Za-z0-9_-]{16,64}$/.test(id)) return null;
  const tx = await kv.get<LoginTransaction>(key(id), "json");
  return tx && tx.expiresAt > now ? tx : null;
}

export async function deleteLogin(kv: KVNamespace, id: string): Promise<void> {
  await kv.delete(key(id));
}
