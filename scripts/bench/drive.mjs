// @ts-check
/**
 * The closed-loop driver of `npm run bench`: C clients, each running one iteration after the other for a warm-up and
 * then a fixed duration. Only iterations that end inside the measured window count; a client that runs out of work
 * (no code left) stops, and the rate is taken over each client's active part of the window. A flow may do untimed
 * preparation inside an iteration (a fresh registration user): it adds the time to the state's `untimedMs`, which is
 * taken off that iteration's latency and off the client's active time.
 */
import { cpuSeconds } from "./serve.mjs";

/**
 * @template S
 * @param {{ states: S[], warmupMs: number, durationMs: number, cpuPids?: number[],
 *   iterate: (state: S) => Promise<unknown> }} o iterate resolves null when the client has nothing left to do
 */
export async function drive(o) {
  const start = performance.now();
  const measureFrom = start + o.warmupMs;
  const end = measureFrom + o.durationMs;
  /** @type {number[]} */
  const latencies = [];
  let failures = 0;
  /** @type {string | undefined} */
  let firstError;
  let activeMs = 0;
  let exhausted = 0;
  /** @type {{ cpu: number | null, client: NodeJS.CpuUsage } | undefined} */
  let cpuAtStart;
  const warmupTimer = setTimeout(() => {
    cpuAtStart = { cpu: cpuSeconds(o.cpuPids ?? []), client: process.cpuUsage() };
  }, o.warmupMs);
  /** @type {{ cpu: number | null, client: NodeJS.CpuUsage } | undefined} */
  let cpuAtEnd;
  const endTimer = setTimeout(() => {
    cpuAtEnd = { cpu: cpuSeconds(o.cpuPids ?? []), client: process.cpuUsage() };
  }, o.warmupMs + o.durationMs);

  await Promise.all(
    o.states.map(async (state) => {
      let stoppedAt = end;
      let untimedInWindow = 0;
      const untimed = () => Number(/** @type {{ untimedMs?: number }} */ (state).untimedMs ?? 0);
      while (performance.now() < end) {
        const t0 = performance.now();
        const u0 = untimed();
        try {
          const r = await o.iterate(state);
          if (r === null) {
            stoppedAt = Math.max(measureFrom, Math.min(end, t0));
            exhausted++;
            break;
          }
          const t1 = performance.now();
          const skipped = untimed() - u0;
          if (t1 >= measureFrom && t1 <= end) {
            latencies.push(t1 - t0 - skipped);
            untimedInWindow += skipped;
          }
        } catch (e) {
          const t1 = performance.now();
          if (t1 >= measureFrom && t1 <= end) {
            failures++;
            firstError ??= e instanceof Error ? e.message : String(e);
          }
        }
      }
      activeMs += stoppedAt - measureFrom - untimedInWindow;
    }),
  );
  clearTimeout(warmupTimer);
  clearTimeout(endTimer);
  cpuAtEnd ??= { cpu: cpuSeconds(o.cpuPids ?? []), client: process.cpuUsage() };
  const clientCpu = cpuAtStart
    ? { user: cpuAtEnd.client.user - cpuAtStart.client.user, system: cpuAtEnd.client.system - cpuAtStart.client.system }
    : undefined;

  latencies.sort((a, b) => a - b);
  const q = (/** @type {number} */ p) =>
    latencies.length === 0 ? Number.NaN : (latencies[Math.min(latencies.length - 1, Math.ceil(p * latencies.length) - 1)] ?? Number.NaN);
  const meanActiveS = activeMs / o.states.length / 1000;
  const completed = latencies.length;
  const workerdCpuMs =
    cpuAtStart?.cpu != null && cpuAtEnd.cpu != null && completed > 0 ? ((cpuAtEnd.cpu - cpuAtStart.cpu) * 1000) / completed : null;
  const clientCpuMs = clientCpu && completed > 0 ? (clientCpu.user + clientCpu.system) / 1000 / completed : null;
  return {
    completed,
    perSecond: meanActiveS > 0 ? completed / meanActiveS : 0,
    p50: q(0.5),
    p99: q(0.99),
    failures,
    firstError,
    exhausted,
    workerdCpuMs,
    clientCpuMs,
    /** The measured iterations' latencies (ms), sorted: paired slices are pooled for their p50/p99. */
    latencies,
  };
}

/** p50 and p99 of the pooled latencies of several runs. */
export function pooledQuantiles(/** @type {DriveResult[]} */ results) {
  const all = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const q = (/** @type {number} */ p) =>
    all.length === 0 ? Number.NaN : (all[Math.min(all.length - 1, Math.ceil(p * all.length) - 1)] ?? Number.NaN);
  return { p50: q(0.5), p99: q(0.99), completed: all.length };
}

/** @typedef {Awaited<ReturnType<typeof drive>>} DriveResult */
