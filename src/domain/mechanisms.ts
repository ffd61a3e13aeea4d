export const MECHANISMS = ["password", "email_otp", "webauthn", "usernameless_webauthn"] as const;
export type Mechanism = (typeof MECHANISMS)[number];

export const isPasskey = (m: string) => m === "webauthn" || m === "usernameless_webauthn";

/** The family a mechanism belongs to: both passkey values mean "passkey is offered". */
export const family = (m: string) => (isPasskey(m) ? "passkey" : m);
