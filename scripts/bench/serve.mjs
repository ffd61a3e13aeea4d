// @ts-check
/**
 * Build and serve for `npm run bench`: the Worker as deployed (`wrangler deploy --dry-run --outdir`, wrangler.toml's
 * settings), the census wrapper and the floor worker (esbuild), the software authenticator for Node (esbuild), and
 * Miniflare instances on 127.0.0.1 with fresh D1 and KV in a temporary persist folder.
 */
import { spawnSync } from "node:child_process";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { Miniflare } from "miniflare";

/** Sign-in requests per client IP per minute in the bench: high enough that the bench measures work, not 429s. */
export const BENCH_IP_LIMIT = 1_000_000_000;

/** The bench's vars and secrets (development values; ENVIRONMENT=development as in `npm run dev`). */
export const SECRETS = {
  SYSTEM_CLIENT_ID: "bench-system-client",
  SYSTEM_CLIENT_SECRET: "bench-system-secret",
  KEY_ENCRYPTION_SECRET: "bench-key-encryption-secret-0123456789",
};

/** The last 4,000 characters workerd wrote to stderr (its stdout, the Worker's request log, is dropped), for a failure. */
export const runtimeLog = { tail: "" };
/** @param {import("node:stream").Readable} out @param {import("node:stream").Readable} err */
const quietStdio = (out, err) => {
  out.resume();
  err.on("data", (d) => {
    runtimeLog.tail = (runtimeLog.tail + d).slice(-4000);
  });
};

/** compatibility_date and compatibility_flags of wrangler.toml (two flat keys: a regex is enough). */
export function wranglerCompat() {
  const toml = readFileSync("wrangler.toml", "utf8");
  const date = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
  const flags = toml.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)?.[1];
  if (!date) throw new Error("wrangler.toml: no compatibility_date");
  return { date, flags: [...(flags ?? "").matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? "") };
}

/**
 * Builds everything into `dir`: app/worker.js (wrangler's bundle), app/counted.js, floor/floor.js and
 * authenticator.mjs. Returns the bundle's size in bytes.
 * @param {string} dir
 */
export async function buildAll(dir) {
  const out = join(dir, "wrangler-out");
  const r = spawnSync("npx", ["wrangler", "deploy", "--dry-run", "--outdir", out], {
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
  });
  if (r.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${r.stdout}\n${r.stderr}`);
  const main = readdirSync(out).find((f) => f.endsWith(".js"));
  if (!main) throw new Error(`wrangler wrote no .js bundle to ${out}`);
  copyFileSync(join(out, main), join(dir, "app", "worker.js"));
  const common = /** @type {const} */ ({ bundle: true, format: "esm", target: "es2022", logLevel: "error", legalComments: "none" });
  await build({ ...common, entryPoints: ["scripts/bench/counted.ts"], outfile: join(dir, "app", "counted.js"), external: ["./worker.js"] });
  await build({ ...common, entryPoints: ["scripts/bench/floor.ts"], outfile: join(dir, "floor", "floor.js") });
  await build({ ...common, entryPoints: ["test/authenticator/index.ts"], outfile: join(dir, "authenticator.mjs"), platform: "node" });
  return readFileSync(join(dir, "app", "worker.js")).length;
}

/** A free TCP port on 127.0.0.1 (the issuer URL must name the port before the worker starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      srv.close(() => (a && typeof a === "object" ? resolve(a.port) : reject(new Error("no port"))));
    });
  });
}

/**
 * Waits for Miniflare; when it fails to start, disposes it (a workerd left running would keep the bench alive).
 * @param {Miniflare} mf
 */
async function ready(mf) {
  try {
    return await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
}

/**
 * Miniflare with the built Worker ("app", the entry, timed) and the census wrapper ("counted", same D1 and KV).
 * @param {string} dir the build folder
 * @param {number} port
 * @param {{ inspectorPort?: number }} [debug] workerd's V8 inspector on 127.0.0.1 (`npm run bench:profile`)
 */
export async function serveApp(dir, port, debug = {}) {
  const compat = wranglerCompat();
  const bindings = {
    ENVIRONMENT: "development",
    ISSUER_BASE_URL: `http://localhost:${port}`,
    ...SECRETS,
    OTP_WEBHOOK_URL: "",
    OTP_WEBHOOK_SECRET: "",
  };
  // Modules listed explicitly: Miniflare's own import scan (acorn) chokes on the minified bundle.
  const mod = (/** @type {string} */ name) => ({ type: /** @type {const} */ ("ESModule"), path: join(dir, "app", name) });
  const shared = {
    modulesRoot: join(dir, "app"),
    compatibilityDate: compat.date,
    compatibilityFlags: compat.flags,
    bindings,
    d1Databases: { DB: "bench-db" },
    kvNamespaces: { CHALLENGES: "bench-kv" },
    ratelimits: { SIGNIN_IP_LIMITER: { simple: { limit: BENCH_IP_LIMIT, period: 60 } } },
  };
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    ...(debug.inspectorPort === undefined ? {} : { inspectorPort: debug.inspectorPort, inspectorHost: "127.0.0.1" }),
    handleRuntimeStdio: quietStdio,
    d1Persist: join(dir, "state", "d1"),
    kvPersist: join(dir, "state", "kv"),
    workers: [
      { name: "app", modules: [mod("worker.js")], ...shared },
      { name: "counted", modules: [mod("counted.js"), mod("worker.js")], ...shared },
    ],
  });
  const url = await ready(mf);
  return { mf, url: url.origin, issuer: bindings.ISSUER_BASE_URL, compat };
}

/**
 * Miniflare with the floor worker, served the same way (own workerd, fresh D1 and KV in the persist folder).
 * @param {string} dir
 * @param {number} port
 * @param {{ inspectorPort?: number }} [debug] workerd's V8 inspector on 127.0.0.1 (`npm run bench:profile`)
 */
export async function serveFloor(dir, port, debug = {}) {
  const compat = wranglerCompat();
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    ...(debug.inspectorPort === undefined ? {} : { inspectorPort: debug.inspectorPort, inspectorHost: "127.0.0.1" }),
    handleRuntimeStdio: quietStdio,
    d1Persist: join(dir, "state", "floor-d1"),
    kvPersist: join(dir, "state", "floor-kv"),
    modulesRoot: join(dir, "floor"),
    modules: [{ type: "ESModule", path: join(dir, "floor", "floor.js") }],
    compatibilityDate: compat.date,
    compatibilityFlags: compat.flags,
    bindings: { RP_ID: "localhost", ORIGIN: `http://localhost:${port}` },
    d1Databases: { FLOOR_DB: "bench-floor-db" },
    kvNamespaces: { FLOOR_KV: "bench-floor-kv" },
  });
  const url = await ready(mf);
  const db = await mf.getD1Database("FLOOR_DB");
  await db.batch([
    db.prepare(
      "CREATE TABLE floor_credentials (id TEXT PRIMARY KEY, user_id TEXT NOT NULL, public_key TEXT NOT NULL, sign_count INTEGER NOT NULL, last_used_at INTEGER)",
    ),
    db.prepare("CREATE TABLE floor_consumed (challenge TEXT PRIMARY KEY, consumed_at INTEGER NOT NULL)"),
  ]);
  return { mf, url: url.origin, origin: `http://localhost:${port}` };
}

/**
 * Applies migrations/*.sql in order (drizzle's `--> statement-breakpoint` separates statements) and scripts/seed.sql
 * (tenant "default" and its admin pool/workspace), as test/setup.ts does.
 * @param {import("miniflare").Miniflare} mf
 */
export async function migrateAndSeed(mf) {
  const db = await mf.getD1Database("DB", "app");
  const files = readdirSync("migrations")
    .filter((f) => f.endsWith(".sql"))
    .sort();
  for (const f of files) {
    const statements = readFileSync(join("migrations", f), "utf8")
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter(Boolean);
    await db.batch(statements.map((s) => db.prepare(s)));
  }
  const seed = readFileSync("scripts/seed.sql", "utf8")
    .split(/;\s*$/m)
    .map((s) => s.replace(/^--.*$/gm, "").trim())
    .filter(Boolean);
  await db.batch(seed.map((s) => db.prepare(s)));
}

/** workerd processes that are children of this process (Linux /proc), for their CPU time. */
export function workerdPids() {
  /** @type {number[]} */
  const pids = [];
  try {
    for (const name of readdirSync("/proc")) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const stat = readFileSync(`/proc/${name}/stat`, "utf8");
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        if (stat.includes("(workerd)") && Number(fields[1]) === process.pid) pids.push(Number(name));
      } catch {
        // gone
      }
    }
  } catch {
    // no /proc: CPU figures are left out
  }
  return pids;
}

/**
 * CPU seconds (user + system) used so far by these processes, or null without /proc.
 * @param {number[]} pids
 */
export function cpuSeconds(pids) {
  if (pids.length === 0) return null;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15 of stat)
    } catch {
      return null;
    }
  }
  return ticks / 100; // USER_HZ
}
