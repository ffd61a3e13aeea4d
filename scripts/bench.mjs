#!/usr/bin/env node
// Latency of a few hot endpoints against a running service (default: `npm run dev` on :8787, client from .dev.vars).
// Prints p50/p95/max per endpoint over N sequential requests. Usage: node scripts/bench.mjs [baseUrl] [n]
import { existsSync, readFileSync } from "node:fs";
import { parseEnv } from "node:util";

const base = process.argv[2] ?? "http://localhost:8787";
const n = Number(process.argv[3] ?? 200);
const vars = parseEnv(readFileSync(existsSync(".dev.vars") ? ".dev.vars" : ".dev.vars.example", "utf8"));
const id = process.env.SYSTEM_CLIENT_ID ?? vars.SYSTEM_CLIENT_ID;
const secret = process.env.SYSTEM_CLIENT_SECRET ?? vars.SYSTEM_CLIENT_SECRET;
const basic = `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

async function token() {
  const res = await fetch(`${base}/default/system/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", authorization: basic },
    body: "grant_type=client_credentials&scope=identity",
  });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

async function measure(name, fn) {
  await fn(); // warm up (first signing key, isolate caches)
  const ms = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
  console.log(
    `${name.padEnd(58)} p50 ${q(0.5).padStart(6)} ms   p95 ${q(0.95).padStart(6)} ms   max ${ms.at(-1).toFixed(1).padStart(6)} ms`,
  );
}

async function ok(res) {
  if (res.status >= 400) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
}

const t = await token();
const auth = { authorization: `Bearer ${t}` };
const json = { "content-type": "application/json" };
// Abuse limits (README "Abuse limits"): a fresh client IP per sign-in request (wrangler dev keeps a CF-Connecting-IP that
// the client sends) and a fresh identifier per password attempt, so the bench measures the work, not 429s.
let seq = 0;
const fresh = () => ({ ...json, "cf-connecting-ip": `10.${(++seq >> 16) & 255}.${(seq >> 8) & 255}.${seq & 255}` });
console.log(`${n} sequential requests each against ${base}\n`);
await measure("POST /{tid}/system/oauth2/token", async () => void (await token()));
await measure("GET  /api/identity/{tid}/system/pools", async () =>
  ok(await fetch(`${base}/api/identity/default/system/pools`, { headers: auth })),
);
await measure("GET  /api/identity/{tid}/system/pools/{ipID}/users", async () =>
  ok(await fetch(`${base}/api/identity/default/system/pools/default/users?limit=50`, { headers: auth })),
);
await measure("GET  /{tid}/{wid}/login/config", async () => ok(await fetch(`${base}/default/default/login/config`)));
await measure("POST /{tid}/{wid}/login/webauthn/options (Smart)", async () =>
  ok(await fetch(`${base}/default/default/login/webauthn/options`, { method: "POST", headers: fresh(), body: "{}" })),
);
await measure("POST .../login/password (unknown user: PBKDF2 still runs)", async () => {
  const res = await fetch(`${base}/default/default/login/password`, {
    method: "POST",
    headers: fresh(),
    body: JSON.stringify({ identifier: `nobody-${seq}@example.com`, password: "wrong password" }),
  });
  if (res.status !== 401) throw new Error(`expected 401, got ${res.status}`);
  await res.arrayBuffer();
});
