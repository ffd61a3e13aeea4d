#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench` (issue 11): our sign-in against the floor, measured in one run. Builds the Worker as deployed,
 * serves it with Miniflare's API on 127.0.0.1 (fresh D1 + KV in a temp folder), seeds users with passkeys through the
 * public API, drives Smart and Classic sign-in, registration, the OIDC token request and Get User Details for a fixed
 * time each with 16 closed-loop clients, counts storage operations per request in a census pass, then measures the
 * floor worker (scripts/bench/floor.ts) and the raw P-256 verify rate inside workerd, prints the table and writes
 * BENCHMARKS.md. BENCH_DURATION: seconds per flow (default 15). Everything started here is stopped in `finally`.
 */
import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { drive, pooledQuantiles } from "./drive.mjs";
import { guardRun } from "./guard.mjs";
import { client, closeHttp, FLOWS, floorSignin, mintCode, nodeHttp, seedClient, seedFloorClient, setupTenant } from "./flows.mjs";
import { comparison, environment, lastRecorded, notes, storageText, table, writeBenchmarks } from "./report.mjs";
import { BENCH_IP_LIMIT, buildAll, freePort, migrateAndSeed, runtimeLog, serveApp, serveFloor, workerdPids } from "./serve.mjs";

const DURATION_S = Number(process.env.BENCH_DURATION ?? 15);
if (!(DURATION_S > 0 && DURATION_S <= 30)) throw new Error("BENCH_DURATION: seconds per flow, 0 < s <= 30");
const WARMUP_S = DURATION_S >= 10 ? 2 : 1;
const CONCURRENCY = 16;
/** Sign-in users per client (Smart: one passkey each; Classic: two each). */
const USERS_PER_CLIENT = 2;
/** Registration users prepared per client (10 passkeys each); further ones are made during the run, untimed. */
const REG_USERS = 2;
/** Paired slices of Smart sign-in and the floor (ABBA order): rounds and seconds per slice. */
const PAIRED_ROUNDS = 4;
const PAIRED_SLICE_S = Math.max(2, Math.round(DURATION_S / 3));

const t0 = performance.now();
const elapsed = () => `${((performance.now() - t0) / 1000).toFixed(0)}s`;
const log = (/** @type {string} */ m) => console.log(`[bench ${elapsed().padStart(4)}] ${m}`);

const tmp = mkdtempSync(join(tmpdir(), "passkey-edge-bench-"));
mkdirSync(join(tmp, "app"));
mkdirSync(join(tmp, "floor"));
/** @type {import("miniflare").Miniflare[]} */
const running = [];
/** The whole run stays under 4 minutes: past that, everything stops and the bench fails. */
const cleanup = guardRun({
  name: "bench",
  tmp,
  budgetS: 235,
  stop: async () => {
    closeHttp();
    await Promise.allSettled(running.map((mf) => mf.dispose()));
  },
});

const secondsOf = (/** @type {number} */ s) => s * 1000;
const run = (
  /** @type {(s: any) => Promise<unknown>} */ iterate,
  /** @type {any[]} */ states,
  /** @type {number[]} */ cpuPids,
  durationS = DURATION_S,
) => drive({ states, iterate, warmupMs: secondsOf(WARMUP_S), durationMs: secondsOf(durationS), cpuPids });

try {
  log(`building: wrangler deploy --dry-run, esbuild (census wrapper, floor worker, software authenticator)`);
  const bundleBytes = await buildAll(tmp);
  const { SoftAuthenticator } = await import(pathToFileURL(join(tmp, "authenticator.mjs")).href);

  const port = await freePort();
  const before = new Set(workerdPids());
  const app = await serveApp(tmp, port);
  running.push(app.mf);
  const appPids = workerdPids().filter((p) => !before.has(p));
  await migrateAndSeed(app.mf);
  log(`serving the built worker (${(bundleBytes / 1024).toFixed(0)} KiB) with Miniflare on ${app.url}, issuer ${app.issuer}`);

  const http = client(app.url, nodeHttp);
  const tenant = await setupTenant(http, app.issuer, Date.now().toString(36));
  const states = await Promise.all(
    Array.from({ length: CONCURRENCY }, () =>
      seedClient(http, tenant, SoftAuthenticator, { users: USERS_PER_CLIENT, regUsers: REG_USERS }),
    ),
  );
  log(
    `seeded ${CONCURRENCY} clients through the public API: ${USERS_PER_CLIENT} Smart users, ${USERS_PER_CLIENT} Classic users (2 passkeys), ${REG_USERS} registration users and a provider session each`,
  );

  // Census: storage operations per request, through the counting wrapper (same bundle, same D1 and KV), 3 iterations
  // per flow with warm isolate caches; the last one is reported.
  const counted = await app.mf.getWorker("counted");
  const census = client(
    app.url,
    (url, init) => /** @type {Promise<import("./flows.mjs").Answer>} */ (counted.fetch(url, /** @type {any} */ (init))),
  );
  const censusState = await seedClient(http, tenant, SoftAuthenticator, { users: 1, regUsers: 1 });
  /** @type {Record<string, { name: string, critical: any, deferred: any }[]>} */
  const censusOf = {};
  const storageOf = (/** @type {{ res: import("./flows.mjs").Answer }} */ r) => JSON.parse(r.res.headers.get("x-bench-storage") ?? "null");
  for (let i = 0; i < 3; i++) {
    const { code, verifier, res } = await mintCode(census, tenant, censusState);
    censusState.codes.push({ code, verifier });
    censusOf.authorize = [{ name: "authorize", ...storageOf({ res }) }];
    for (const flow of FLOWS) {
      const answers = await flow.run(census, tenant, censusState);
      if (answers) censusOf[flow.key] = answers.map((a, j) => ({ name: flow.requests[j] ?? "?", ...storageOf(a) }));
    }
  }
  log("census done (storage operations per request, counted through the wrapper worker)");

  /** @type {{ key: string, label: string, result: import("./drive.mjs").DriveResult, census?: any[] }[]} */
  const rows = [];
  for (const flow of FLOWS) {
    if (flow.key === "token") {
      // Codes are made beforehand through each client's provider session (the authorize endpoint), so only the
      // token request is timed; minting runs 1.5x the token phase so that clients do not run out (codes live 60 s).
      log(`minting authorization codes for ${(1.5 * (WARMUP_S + DURATION_S)).toFixed(0)} s (authorize with a provider session)`);
      const mint = await run(
        async (s) => {
          const { code, verifier } = await mintCode(http, tenant, s);
          s.codes.push({ code, verifier });
        },
        states,
        appPids,
        1.5 * (WARMUP_S + DURATION_S) - WARMUP_S,
      );
      rows.push({ key: "authorize", label: "OIDC authorize with a session (code minting)", result: mint, census: censusOf.authorize });
    }
    log(`${flow.label}: ${WARMUP_S} s warm-up + ${DURATION_S} s at concurrency ${CONCURRENCY}`);
    const result = await run((s) => flow.run(http, tenant, s), states, appPids);
    rows.push({ key: flow.key, label: flow.label, result, census: censusOf[flow.key] });
  }
  // The floor, served the same way, driven by the same client and authenticator. The app stays up (idle) for the
  // paired slices below.
  const floorPort = await freePort();
  const beforeFloor = new Set(workerdPids());
  const floor = await serveFloor(tmp, floorPort);
  running.push(floor.mf);
  const floorPids = workerdPids().filter((p) => !beforeFloor.has(p));
  const fhttp = client(floor.url, nodeHttp);
  const floorStates = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => seedFloorClient(fhttp, SoftAuthenticator, floor.origin, USERS_PER_CLIENT)),
  );
  log(`floor: ${WARMUP_S} s warm-up + ${DURATION_S} s at concurrency ${CONCURRENCY}`);
  const floorResult = await run((s) => floorSignin(fhttp, floor.origin, s), floorStates, floorPids);
  rows.push({
    key: "floor",
    label: "**Floor** sign-in (options + finish)",
    result: floorResult,
    census: [
      {
        name: "options (by construction)",
        critical: { d1RoundTrips: 0, d1Statements: 0, kvReads: 0, kvWrites: 1, kvDeletes: 0, kvLists: 0 },
        deferred: none(),
      },
      {
        name: "finish (by construction)",
        critical: { d1RoundTrips: 2, d1Statements: 3, kvReads: 1, kvWrites: 0, kvDeletes: 0, kvLists: 0 },
        deferred: none(),
      },
    ],
  });

  // Raw P-256 verify rate inside workerd: two loops of different length, timed by the client (workerd's clock stands
  // still without I/O); the difference cancels the request's own cost.
  const timedVerify = async (/** @type {number} */ n) => {
    const s = performance.now();
    await fhttp.req("GET", `/verify?n=${n}`);
    return performance.now() - s;
  };
  await timedVerify(200);
  const small = await timedVerify(200);
  const probe = await timedVerify(2000);
  const bigN = Math.max(2000, Math.round((1000 / Math.max(1, probe - small)) * 1800) + 200);
  const big = await timedVerify(bigN);
  const verifyPerSecond = ((bigN - 200) / (big - small)) * 1000;

  // Paired slices: Smart sign-in and the floor in alternating short slices (ABBA order), both servers up, so that a
  // drift of the machine's speed during the run (this shared 2-core machine drifts by tens of percent from minute to
  // minute) falls on both alike. The ratio of the two means is the run's figure for "ours ÷ floor".
  const smartFlow = FLOWS.find((f) => f.key === "smart");
  if (!smartFlow) throw new Error("no smart flow");
  /** @type {{ smart: import("./drive.mjs").DriveResult, floor: import("./drive.mjs").DriveResult }[]} */
  const pairs = [];
  log(`paired slices: ${PAIRED_ROUNDS} rounds of Smart and floor, ${PAIRED_SLICE_S} s each after 1 s warm-up, ABBA order`);
  for (let round = 0; round < PAIRED_ROUNDS; round++) {
    const slice = (/** @type {"smart" | "floor"} */ which) =>
      which === "smart"
        ? drive({
            states,
            iterate: (st) => smartFlow.run(http, tenant, st),
            warmupMs: 1000,
            durationMs: secondsOf(PAIRED_SLICE_S),
            cpuPids: appPids,
          })
        : drive({
            states: floorStates,
            iterate: (st) => floorSignin(fhttp, floor.origin, st),
            warmupMs: 1000,
            durationMs: secondsOf(PAIRED_SLICE_S),
            cpuPids: floorPids,
          });
    const order = /** @type {const} */ (round % 2 === 0 ? ["smart", "floor"] : ["floor", "smart"]);
    const got = /** @type {Record<"smart" | "floor", import("./drive.mjs").DriveResult>} */ ({});
    for (const which of order) got[which] = await slice(which);
    pairs.push({ smart: got.smart, floor: got.floor });
  }
  await floor.mf.dispose();
  running.splice(running.indexOf(floor.mf), 1);
  await app.mf.dispose();
  running.splice(running.indexOf(app.mf), 1);

  // ---------- report ----------
  const env = environment();
  const smart = rows.find((r) => r.key === "smart")?.result;
  const sequentialRatio = smart && floorResult.perSecond > 0 ? smart.perSecond / floorResult.perSecond : Number.NaN;
  const mean = (/** @type {number[]} */ xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const pairedSmart = mean(pairs.map((p) => p.smart.perSecond));
  const pairedFloor = mean(pairs.map((p) => p.floor.perSecond));
  const ratio = pairedFloor > 0 ? pairedSmart / pairedFloor : Number.NaN;
  const smartQ = pooledQuantiles(pairs.map((p) => p.smart));
  const floorQ = pooledQuantiles(pairs.map((p) => p.floor));
  const pairedFailures = pairs.reduce((n, p) => n + p.smart.failures + p.floor.failures, 0);
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const tableText = table(rows);
  const pairedRows = pairs.map(
    (p, i) =>
      `| ${i + 1} (${i % 2 === 0 ? "Smart first" : "floor first"}) | ${p.smart.perSecond.toFixed(1)} | ${p.floor.perSecond.toFixed(1)} | ${(p.smart.perSecond / p.floor.perSecond).toFixed(2)} | ${p.smart.p99.toFixed(1)} | ${p.floor.p99.toFixed(1)} |`,
  );
  const floorText = [
    [
      `Smart sign-in ÷ floor, paired: **${ratio.toFixed(2)}** (${pairedSmart.toFixed(1)} vs ${pairedFloor.toFixed(1)} sign-ins/s, the means of`,
      `${PAIRED_ROUNDS} alternating slices of ${PAIRED_SLICE_S} s each at concurrency ${CONCURRENCY}, both servers up; pooled p50/p99`,
      `${smartQ.p50.toFixed(1)}/${smartQ.p99.toFixed(1)} ms vs ${floorQ.p50.toFixed(1)}/${floorQ.p99.toFixed(1)} ms; ${pairedFailures} failures).`,
      `Sequential (the table's rows, measured minutes apart): ${Number.isFinite(sequentialRatio) ? sequentialRatio.toFixed(2) : "–"}`,
      `(${smart?.perSecond.toFixed(1)} vs ${floorResult.perSecond.toFixed(1)} sign-ins/s; p99 ${smart?.p99.toFixed(1)} vs ${floorResult.p99.toFixed(1)} ms).`,
      `Raw \`crypto.subtle.verify\` (ECDSA P-256) inside workerd: **${verifyPerSecond.toFixed(0)}/s** on one thread`,
      `(${bigN} verifies in ${(big - small).toFixed(0)} ms net of a 200-verify request).`,
    ].join(" "),
    "",
    "| slice pair | Smart sign-ins/s | floor sign-ins/s | ratio | Smart p99 ms | floor p99 ms |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...pairedRows,
  ].join("\n");
  const extra = notes(rows);
  const setup = [
    `${date} · ${DURATION_S} s per flow after ${WARMUP_S} s warm-up · concurrency ${CONCURRENCY} · sign-in IP limiter at ${BENCH_IP_LIMIT.toLocaleString("en")}/min`,
    "(the bench measures work, not 429s; every sign-in request also has a fresh CF-Connecting-IP) · built worker",
    `${(bundleBytes / 1024).toFixed(0)} KiB raw (wrangler deploy --dry-run) · compatibility ${app.compat.date} ${app.compat.flags.join(" ")}`,
  ].join(" ");
  const machine = [
    `- Machine: ${env.cpu}, ${env.cores} cores (os.cpus()), ${env.memoryGiB} GiB, ${env.os}; load average at the end ${env.loadAvg}`,
    `- Versions: node ${env.node}, workerd ${env.workerd}, miniflare ${env.miniflare}, wrangler ${env.wrangler}; commit ${env.commit}`,
  ].join("\n");
  const round = (/** @type {number} */ n) => Math.round(n * 100) / 100;
  const flows = Object.fromEntries(
    rows.map((r) => [r.key, { label: r.label, perSecond: round(r.result.perSecond), p50: round(r.result.p50), p99: round(r.result.p99) }]),
  );
  const previous = lastRecorded();
  const body = [
    setup,
    "",
    machine,
    "",
    "### Results",
    "",
    tableText,
    "",
    ...(extra.length > 0 ? [extra.join("\n"), ""] : []),
    "### The floor",
    "",
    floorText,
    "",
    "### Against the previous run",
    "",
    comparison(flows, previous),
  ].join("\n");
  console.log(`\n${body}\n`);
  writeBenchmarks({
    date,
    env,
    body,
    data: {
      date,
      commit: env.commit,
      durationS: DURATION_S,
      ratio: round(ratio),
      sequentialRatio: round(sequentialRatio),
      pairedP99: round(smartQ.p99),
      verifyPerSecond: Math.round(verifyPerSecond),
      flows,
    },
    oneLine: `${date} (${env.commit}, ${DURATION_S} s/flow): Smart ${smart?.perSecond.toFixed(1)}/s p99 ${smart?.p99.toFixed(0)} ms, floor ${floorResult.perSecond.toFixed(1)}/s, paired ratio ${ratio.toFixed(2)} (Smart p99 ${smartQ.p99.toFixed(0)} ms)`,
  });
  log(`wrote BENCHMARKS.md; storage per request of Smart sign-in: ${storageText(censusOf.smart)}`);
} catch (e) {
  console.error(`[bench] failed: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  if (runtimeLog.tail) console.error(`[bench] workerd's last stderr output:\n${runtimeLog.tail}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  log("stopped Miniflare, removed the temp folder");
  // Nothing should be left running; if something is, it must not keep the bench alive.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}

function none() {
  return { d1RoundTrips: 0, d1Statements: 0, kvReads: 0, kvWrites: 0, kvDeletes: 0, kvLists: 0 };
}
