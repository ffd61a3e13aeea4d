#!/usr/bin/env node
// `npm run dev`: local D1 + KV with migrations applied and the demo tenant seeded, then `wrangler dev` on :8787.
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { prepareLocalDb, startWranglerDev } from "./lib/wrangler-dev.mjs";

const PORT = process.env.PORT ?? "8787";

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}
try {
  prepareLocalDb();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
}

const base = `http://localhost:${PORT}`;
console.log(`
passkey-edge is starting on ${base}
  API reference     ${base}/docs  (OpenAPI: ${base}/openapi.json)
  token endpoint    POST ${base}/default/system/oauth2/token  (client from .dev.vars)
  system API        ${base}/api/identity/default/system/pools
  JWKS              ${base}/default/.well-known/jwks.json
`);
const dev = startWranglerDev({ port: PORT, args: process.argv.slice(2) });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => dev.stop(sig));
dev.child.on("exit", (code) => process.exit(code ?? 0));

// ---------- first administrator ----------
// Once the worker answers: find or create user "admin" (verified email admin@localhost.test) in pool "admins" of
// tenant "default" with the bootstrap client from .dev.vars; without a passkey yet, send it an enrollment code and
// print the one-time enrollment link (the code comes from the development outbox). Never fatal.
const ADMIN = { tenant: "default", pool: "admins", identifier: "admin", email: "admin@localhost.test" };

async function bootstrapAdmin() {
  const vars = parseEnv(readFileSync(".dev.vars", "utf8"));
  const id = vars.SYSTEM_CLIENT_ID;
  const secret = vars.SYSTEM_CLIENT_SECRET;
  if (!id || !secret) throw new Error("SYSTEM_CLIENT_ID / SYSTEM_CLIENT_SECRET are not set in .dev.vars");
  await dev.ready();

  const tokenRes = await fetch(`${base}/${ADMIN.tenant}/system/oauth2/token`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`,
    },
    body: "grant_type=client_credentials&scope=identity",
  });
  if (!tokenRes.ok) throw new Error(`token endpoint: ${tokenRes.status} ${await tokenRes.text()}`);
  const { access_token: token } = await tokenRes.json();

  const api = async (method, path, body) => {
    const res = await fetch(`${base}/api/identity/${ADMIN.tenant}/system${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : res.json();
  };

  const { users } = await api("GET", `/pools/${ADMIN.pool}/users?limit=1000`);
  let user = users.find((u) => u.identifiers.some((i) => i.identifier.toLowerCase() === ADMIN.identifier));
  if (!user) {
    user = await api("POST", `/pools/${ADMIN.pool}/users`, {
      identifiers: [{ identifier: ADMIN.identifier, type: "uid" }],
      verifiable_addresses: [{ address: ADMIN.email, type: "email", verified: true }],
    });
  }
  const details = await api("GET", `/pools/${ADMIN.pool}/users/${user.id}`);
  if (details.credentials.some((c) => c.type === "webauthn")) {
    console.log(`\nAdmin console: ${base}/${ADMIN.tenant}/admin  (sign in with the admin's passkey)\n`);
    return;
  }
  await api("POST", `/pools/${ADMIN.pool}/user/webauthn/add/request`, { userID: user.id });
  const { messages } = await api("GET", "/outbox");
  const address = details.verifiable_addresses.find((a) => a.verified)?.address ?? ADMIN.email;
  const message = messages.find((m) => m.to === address && m.purpose === "enroll_webauthn");
  if (!message) throw new Error(`no enrollment code for ${address} in the outbox (does the admin user have a verified address?)`);
  const link = `${base}/${ADMIN.tenant}/admin/enroll?user=${encodeURIComponent(user.id)}&code=${message.code}`;
  console.log(`\nFirst admin: open ${link} to register the admin's passkey\n  then sign in at ${base}/${ADMIN.tenant}/admin/login\n`);
}

bootstrapAdmin().catch((e) => {
  console.warn(
    `\nwarning: could not prepare the first admin's enrollment link: ${e instanceof Error ? e.message : e}\n  (see README, "Administrators")\n`,
  );
});
