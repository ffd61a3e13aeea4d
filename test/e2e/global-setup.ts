/** Starts `wrangler dev` on fresh local D1/KV state (migrations applied, demo tenant seeded) for the browser tests. */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { BASE, E2E_PORT, E2E_VARS } from "./config";

// One state folder per port, so two runs on different E2E_PORTs do not share storage.
const STATE = `.wrangler-e2e/state-${E2E_PORT}`;
let child: ChildProcess | undefined;

function wrangler(args: string[]) {
  const r = spawnSync("npx", ["wrangler", ...args], {
    stdio: "pipe",
    encoding: "utf8",
    env: { ...process.env, CI: "true", WRANGLER_SEND_METRICS: "false" },
  });
  if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

export async function setup() {
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  wrangler(["d1", "migrations", "apply", "DB", "--local", "--persist-to", STATE]);
  wrangler(["d1", "execute", "DB", "--local", "--persist-to", STATE, "--file", "scripts/seed.sql"]);
  const vars = Object.entries(E2E_VARS).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  child = spawn("npx", ["wrangler", "dev", "--port", String(E2E_PORT), "--ip", "localhost", "--persist-to", STATE, ...vars], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    detached: true,
  });
  let log = "";
  child.stdout?.on("data", (d) => (log += d));
  child.stderr?.on("data", (d) => (log += d));
  const deadline = Date.now() + 90_000;
  for (;;) {
    try {
      const res = await fetch(`${BASE}/openapi.json`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`wrangler dev did not start:\n${log}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function teardown() {
  if (child?.pid) {
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      child.kill("SIGTERM");
    }
  }
}
