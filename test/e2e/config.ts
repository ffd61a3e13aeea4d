/** Where the e2e worker listens and the bootstrap client it is started with. */
export const E2E_PORT = Number(process.env.E2E_PORT ?? 8790);
// localhost, not 127.0.0.1: a WebAuthn RP ID cannot be an IP address.
export const BASE = `http://localhost:${E2E_PORT}`;
export const E2E_CLIENT = { id: "e2e-system-client", secret: "e2e-system-secret-0123456789" };
export const E2E_VARS: Record<string, string> = {
  ENVIRONMENT: "development",
  SYSTEM_CLIENT_ID: E2E_CLIENT.id,
  SYSTEM_CLIENT_SECRET: E2E_CLIENT.secret,
  KEY_ENCRYPTION_SECRET: "e2e-key-encryption-secret-0123456789",
};
