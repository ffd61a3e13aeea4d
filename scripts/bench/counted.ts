/**
 * The census worker of `npm run bench`: the built Worker (worker.js, the `wrangler deploy --dry-run` bundle, loaded as
 * a module next to this one) called with D1 and KV bindings that count every call, with the same wrappers as the
 * workers suite's budget tests (test/helpers/faults.ts, no fault planned; test/helpers/storage-use.ts counts the same
 * way). It shares the timed worker's D1 and KV, so the counts are those of the same requests on the same data; the
 * timed requests never go through it.
 *
 * The answer carries `x-bench-storage`: JSON {critical, deferred}, critical = calls made before the Worker returned
 * its response, deferred = calls made by work it handed to `waitUntil` (awaited here before answering).
 */
import { FaultPlan, faultyEnv, type StorageCall, storageUse } from "../../test/helpers/faults";
import worker from "./worker.js";

/** The counts of storageUse, without the call list (it would not fit in a header). */
function summary(calls: StorageCall[]) {
  const { calls: _, ...counts } = storageUse(calls);
  return counts;
}

export default {
  async fetch(request: Request, env: Cloudflare.Env, ctx: ExecutionContext): Promise<Response> {
    const plan = new FaultPlan();
    const pending: Promise<unknown>[] = [];
    const counting: ExecutionContext = {
      waitUntil: (p: Promise<unknown>) => {
        pending.push(p);
        ctx.waitUntil(p);
      },
      passThroughOnException: () => ctx.passThroughOnException(),
      props: ctx.props,
      tracing: ctx.tracing,
    };
    const fetch = worker.fetch;
    if (fetch === undefined) throw new Error("the built worker has no fetch handler");
    const res = await fetch(request as Request<unknown, IncomingRequestCfProperties>, faultyEnv(env, plan), counting);
    const critical = plan.calls.length;
    await Promise.allSettled(pending);
    const out = new Response(res.body, res);
    out.headers.set(
      "x-bench-storage",
      JSON.stringify({ critical: summary(plan.calls.slice(0, critical)), deferred: summary(plan.calls.slice(critical)) }),
    );
    return out;
  },
} satisfies ExportedHandler<Cloudflare.Env>;
