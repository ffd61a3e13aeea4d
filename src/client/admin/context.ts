/** Admin console: what every screen gets from the shell (tenant, API, live region, navigation, the pools). */
import { createContext, useContext } from "hono/jsx/dom";
import type { StatusKind } from "../lib/status";
import { enc, type Mechanism, type Pool, type SystemApi, type User } from "./api";

/** How a message is said: the live region's kinds (src/client/lib/status.tsx). */
export type Tone = StatusKind;

export interface Console {
  tid: string;
  api: SystemApi;
  /** Announces in the console's live region; errors are role=alert. */
  say(message: string, tone?: Tone): void;
  /** Navigates to a console route, e.g. "#/pools/default/users"; `message` is said on the new screen. */
  go(hash: string, message?: string, tone?: Tone): void;
  /** The tenant's pools (null until loaded) and a reload after a create, update or delete. */
  pools: Pool[] | null;
  reloadPools(): Promise<Pool[]>;
  /** Replaces one pool in the cached list after a save. */
  poolSaved(pool: Pool): void;
}

export const ConsoleContext = createContext<Console | null>(null);

export function useConsole(): Console {
  const ui = useContext(ConsoleContext);
  if (!ui) throw new Error("no console context");
  return ui;
}

const LABELS: Record<Mechanism, string> = {
  webauthn: "Passkey",
  usernameless_webauthn: "Passkey",
  password: "Password",
  email_otp: "Email one-time code",
};

export const methodLabel = (m: Mechanism) => LABELS[m];
export const isPasskey = (m: Mechanism) => m === "webauthn" || m === "usernameless_webauthn";
/** A pool's mechanisms, one per family (either passkey value means "passkey is offered"). */
export const family = (m: Mechanism) => (isPasskey(m) ? "passkey" : m);
export const POOL_METHODS: Mechanism[] = ["webauthn", "password", "email_otp"];

/** The tenant's reserved pool and workspace (the API refuses to delete them). */
export const ADMIN_POOL = "admins";
export const ADMIN_WORKSPACE = "admin";

export const userHash = (poolId: string, userId: string) => `#/pools/${enc(poolId)}/users/${enc(userId)}`;
/** The name an administrator knows the user by: its first identifier, else its id. */
export const displayName = (u: User) => u.identifiers[0]?.identifier ?? u.id;
