/** Starts `wrangler dev` on fresh local D1/KV state (migrations applied, demo tenant seeded) for the browser tests. */
import { mkdirSync, rmSync } from "node:fs";
import { prepareLocalDb, startWranglerDev, type WranglerDev } from "../../scripts/lib/wrangler-dev.mjs";
import { E2E_PORT, E2E_VARS } from "./config";

// One state folder per port, so two runs on different E2E_PORTs do not share storage.
const STATE = `.wrangler-e2e/state-${E2E_PORT}`;
let dev: WranglerDev | undefined;

export async function setup() {
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  prepareLocalDb({ persistTo: STATE, quiet: true });
  // The worker's request log goes to a file beside the state, for reading after a failed run.
  dev = startWranglerDev({ port: E2E_PORT, persistTo: STATE, vars: E2E_VARS, quiet: true, logFile: `${STATE}/wrangler.log` });
  await dev.ready(90_000);
}

export async function teardown() {
  dev?.stop();
}
