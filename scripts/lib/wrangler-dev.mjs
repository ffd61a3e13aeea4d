// @ts-check
/**
 * `wrangler dev` for `npm run dev` (scripts/dev.mjs) and the browser tests (test/e2e/global-setup.ts): prepare the
 * local D1 database, start the worker, wait until it answers, stop it. Plain JS with JSDoc types, so the .mjs script
 * and the TypeScript e2e setup share it (tsconfig.e2e.json has allowJs).
 */
import { spawn, spawnSync } from "node:child_process";
import { appendFileSync } from "node:fs";

/** Wrangler's own usage metrics stay off for every command started here. */
const WRANGLER_ENV = { ...process.env, WRANGLER_SEND_METRICS: "false" };

/**
 * Applies the D1 migrations to the local database and seeds the demo tenant (scripts/seed.sql, idempotent).
 * Throws when a wrangler command fails; with `quiet`, the error carries wrangler's output instead of printing it.
 * @param {{ persistTo?: string, quiet?: boolean }} [options] persistTo: a state folder instead of .wrangler/state
 * @returns {void}
 */
export function prepareLocalDb({ persistTo, quiet = false } = {}) {
  const persist = persistTo === undefined ? [] : ["--persist-to", persistTo];
  for (const args of [
    ["d1", "migrations", "apply", "DB", "--local", ...persist],
    ["d1", "execute", "DB", "--local", ...persist, "--file", "scripts/seed.sql"],
  ]) {
    // CI=true: no interactive confirmation prompt from `migrations apply`.
    const r = spawnSync("npx", ["wrangler", ...args], {
      stdio: quiet ? "pipe" : "inherit",
      encoding: "utf8",
      env: { ...WRANGLER_ENV, CI: "true" },
    });
    if (r.status !== 0) throw new Error(`wrangler ${args.join(" ")} failed${quiet ? `:\n${r.stdout}\n${r.stderr}` : ""}`);
  }
}

/**
 * @typedef {object} WranglerDev
 * @property {string} url the worker's base URL, http://localhost:<port>
 * @property {import("node:child_process").ChildProcess} child the `npx wrangler dev` process (leader of its own group)
 * @property {(timeoutMs?: number) => Promise<void>} ready resolves once GET /openapi.json answers 200; rejects when
 *   wrangler exits first or after timeoutMs (default 120 s), with wrangler's output when it is captured
 * @property {(signal?: NodeJS.Signals) => void} stop sends the signal (default SIGTERM) to wrangler's process group
 */

/**
 * Starts `wrangler dev --port <port> --ip localhost` (localhost, not 127.0.0.1: a WebAuthn RP ID cannot be an IP
 * address) in a process group of its own, so that stop() reaches wrangler and the workerd it starts, not just npx.
 * @param {object} options
 * @param {number | string} options.port
 * @param {string} [options.persistTo] a state folder instead of .wrangler/state
 * @param {Record<string, string>} [options.vars] bindings passed as --var KEY:VALUE (they win over .dev.vars)
 * @param {string[]} [options.args] further arguments for wrangler dev
 * @param {boolean} [options.quiet] capture wrangler's output (shown when it fails to start) instead of printing it
 * @param {string} [options.logFile] with quiet, also append wrangler's output (the request log) to this file
 * @returns {WranglerDev}
 */
export function startWranglerDev({ port, persistTo, vars = {}, args = [], quiet = false, logFile }) {
  const url = `http://localhost:${port}`;
  const child = spawn(
    "npx",
    [
      "wrangler",
      "dev",
      "--port",
      String(port),
      "--ip",
      "localhost",
      ...(persistTo === undefined ? [] : ["--persist-to", persistTo]),
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]),
      ...args,
    ],
    { stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit", detached: true, env: WRANGLER_ENV },
  );
  let log = "";
  /** @param {Buffer} d */
  const capture = (d) => {
    log += d;
    if (logFile !== undefined) appendFileSync(logFile, d);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);

  /** @param {number} [timeoutMs] */
  async function ready(timeoutMs = 120_000) {
    const deadline = Date.now() + timeoutMs;
    const failure = (/** @type {string} */ why) => new Error(`wrangler dev ${why}${quiet ? `:\n${log}` : ""}`);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) throw failure("exited before it answered");
      try {
        if ((await fetch(`${url}/openapi.json`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw failure(`did not answer on ${url} within ${timeoutMs / 1000}s`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  /** @param {NodeJS.Signals} [signal] */
  function stop(signal = "SIGTERM") {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  }

  return { url, child, ready, stop };
}
