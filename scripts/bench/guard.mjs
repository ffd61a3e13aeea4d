// @ts-check
/**
 * Stops everything a bench script started, however it ends: on exit the temp folder goes; on SIGINT/SIGTERM, and
 * once the run passes its time budget, `stop` runs (Miniflare disposed, connections closed), then the temp folder goes
 * and the process exits (130, or 1 past the budget). Returns the clean-up for the normal end of the run.
 * @param {{ name: string, tmp: string, budgetS: number, stop: () => Promise<unknown> }} run
 * @returns {() => Promise<void>}
 */
import { rmSync } from "node:fs";

export function guardRun({ name, tmp, budgetS, stop }) {
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await stop();
    rmSync(tmp, { recursive: true, force: true });
  };
  // Miniflare's own exit hook ends the process on SIGINT after stopping workerd; the temp folder goes in any case.
  process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));
  for (const sig of /** @type {const} */ (["SIGINT", "SIGTERM"])) {
    process.once(sig, () => {
      console.error(`\n[${name}] ${sig}: stopping Miniflare and removing ${tmp}`);
      cleanup().finally(() => process.exit(130));
    });
  }
  setTimeout(() => {
    console.error(`[${name}] over the ${budgetS} s budget: stopping`);
    cleanup().finally(() => process.exit(1));
  }, budgetS * 1000).unref();
  return cleanup;
}
