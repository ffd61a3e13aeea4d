/**
 * Storage use per request, counted (issue 11's budgets): the Worker's real entrypoint is called with D1 and KV bindings
 * that log every call (test/helpers/faults.ts, with no fault planned). What runs before the response is returned is the
 * request's critical path; what runs afterwards in `waitUntil` is reported apart as deferred work.
 *
 * Counted: D1 round trips (a batch is one, as is a statement run on its own), D1 statements (a batch's count), KV
 * reads (get, getWithMetadata), writes (put), deletes and lists.
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import worker from "../../src/index";
import { ORIGIN } from "./api";
import { FaultPlan, faultyEnv, type StorageUse, storageUse } from "./faults";

export interface Measured {
  res: Response;
  /** Storage used before the response was returned. */
  critical: StorageUse;
  /** Storage used after it, by work handed to `waitUntil`. */
  deferred: StorageUse;
}

/** Calls the Worker once (path relative to ORIGIN, or a full URL) and counts its storage use. */
export async function measuredFetch(path: string, init: RequestInit = {}, base: Cloudflare.Env = env): Promise<Measured> {
  const plan = new FaultPlan();
  const ctx = createExecutionContext();
  const url = path.startsWith("http") ? path : `${ORIGIN}${path}`;
  const res = await worker.fetch(new Request(url, init) as Request<unknown, IncomingRequestCfProperties>, faultyEnv(base, plan), ctx);
  const critical = plan.calls.length;
  await waitOnExecutionContext(ctx);
  return { res, critical: storageUse(plan.calls.slice(0, critical)), deferred: storageUse(plan.calls.slice(critical)) };
}

/** A JSON POST through measuredFetch. */
export function measuredPost(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Measured> {
  return measuredFetch(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** One line per call, for an assertion's message: "d1 first SELECT …" / "kv put login:…". */
export const describeCalls = (u: StorageUse) => u.calls.map((c) => `${c.kind} ${c.op} ${c.detail.slice(0, 100)}`).join("\n");
