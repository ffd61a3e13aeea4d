/** Admin console: what every screen gets from the shell (tenant, API, live region, navigation). */
import type { Mechanism, SystemApi } from "./admin-api";

export interface Console {
  tid: string;
  api: SystemApi;
  /** Announces in the page's live region; errors are role=alert. */
  say(message: string, kind?: "info" | "error" | "success"): void;
  /** Navigates to a console route, e.g. "#/pools/default/users". */
  go(hash: string): void;
}

const LABELS: Record<string, string> = {
  webauthn: "Passkey",
  usernameless_webauthn: "Passkey",
  password: "Password",
  email_otp: "Email one-time code",
};

export const methodLabel = (m: string) => LABELS[m] ?? m;
export const isPasskey = (m: string): m is "webauthn" | "usernameless_webauthn" => m === "webauthn" || m === "usernameless_webauthn";
/** A pool's mechanisms, one per family (either passkey value means "passkey is offered"). */
export const family = (m: Mechanism) => (isPasskey(m) ? "passkey" : m);
export const POOL_METHODS: Mechanism[] = ["webauthn", "password", "email_otp"];
