#!/usr/bin/env node
// `npm run dev`: local D1 + KV with migrations applied and the demo tenant seeded, then `wrangler dev` on :8787.
import { spawnSync, spawn } from "node:child_process";
import { copyFileSync, existsSync } from "node:fs";

const PORT = process.env.PORT ?? "8787";
const wrangler = (args, opts = {}) => spawnSync("npx", ["wrangler", ...args], { stdio: "inherit", env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" }, ...opts });

if (!existsSync(".dev.vars")) {
  copyFileSync(".dev.vars.example", ".dev.vars");
  console.log("created .dev.vars from .dev.vars.example");
}
for (const args of [["d1", "migrations", "apply", "DB", "--local"], ["d1", "execute", "DB", "--local", "--file", "scripts/seed.sql"]]) {
  const r = wrangler(args);
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const base = `http://localhost:${PORT}`;
console.log(`
passkey-edge is starting on ${base}
  API reference     ${base}/docs  (OpenAPI: ${base}/openapi.json)
  token endpoint    POST ${base}/default/system/oauth2/token  (client from .dev.vars)
  system API        ${base}/api/identity/default/system/pools
  JWKS              ${base}/default/.well-known/jwks.json
`);
const child = spawn("npx", ["wrangler", "dev", "--port", PORT, "--ip", "localhost", ...process.argv.slice(2)], { stdio: "inherit", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code) => process.exit(code ?? 0));
