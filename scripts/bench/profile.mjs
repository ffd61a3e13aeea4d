#!/usr/bin/env node
// @ts-check
/**
 * `npm run bench:profile` (issue 11): where our Worker's CPU goes in a Smart sign-in, from a V8 CPU profile taken
 * inside workerd. Builds and serves the Worker as `npm run bench` does (wrangler's minified bundle with its source
 * map, Miniflare on 127.0.0.1, fresh D1 + KV), with workerd's inspector on a loopback port; seeds the bench's users,
 * warms up, then connects to the user worker's isolate (`core:user:app`, not Miniflare's entry, D1 or KV workers),
 * samples it (Profiler, every SAMPLING_US µs) while 16 closed-loop clients run Smart sign-ins (options + finish) for
 * PROFILE_DURATION seconds (default 10), and maps every sampled frame back to its original source through the
 * bundle's source map; then profiles the floor worker (scripts/bench/floor.ts) the same way. Prints CPU ms per
 * sign-in by category, the top functions by self time and our functions by total time, and writes the "Profile"
 * section of BENCHMARKS.md (between its markers; the bench's own sections are left alone).
 * PROFILE_OUT=<file>: keep the .cpuprofile (loadable in Chrome DevTools). Under 2 minutes; stops what it started.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { decodeMappings } from "../lib/source-map.mjs";
import { drive } from "./drive.mjs";
import { guardRun } from "./guard.mjs";
import { client, closeHttp, FLOWS, floorSignin, nodeHttp, seedClient, seedFloorClient, setupTenant } from "./flows.mjs";
import { environment, mdTable, writeSection } from "./report.mjs";
import { buildAll, cpuSeconds, freePort, migrateAndSeed, runtimeLog, serveApp, serveFloor, workerdPids } from "./serve.mjs";

const DURATION_S = Number(process.env.PROFILE_DURATION ?? 10);
if (!(DURATION_S > 0 && DURATION_S <= 30)) throw new Error("PROFILE_DURATION: seconds, 0 < s <= 30");
const WARMUP_S = 3;
const CONCURRENCY = 16;
const SAMPLING_US = 100;
const USERS_PER_CLIENT = 2;
const TOP = 20;
const OURS_TOP = 15;
/** The inspector targets of the user workers (workerd names them core:user:<worker name>; the floor's has none). */
const TARGET = "core:user:app";
const FLOOR_TARGET = "core:user:";

const t0 = performance.now();
const log = (/** @type {string} */ m) => console.log(`[profile ${((performance.now() - t0) / 1000).toFixed(0).padStart(3)}s] ${m}`);

const tmp = mkdtempSync(join(tmpdir(), "passkey-edge-profile-"));
mkdirSync(join(tmp, "app"));
mkdirSync(join(tmp, "floor"));
/** @type {import("miniflare").Miniflare[]} */
const running = [];
/** @type {WebSocket[]} */
const sockets = [];
const cleanup = guardRun({
  name: "profile",
  tmp,
  budgetS: 115,
  stop: async () => {
    closeHttp();
    for (const ws of sockets) ws.close();
    await Promise.allSettled(running.map((mf) => mf.dispose()));
  },
});

// ---------- Chrome DevTools Protocol over the inspector's WebSocket ----------

/**
 * The inspector target of one worker: workerd lists one per worker (user workers and Miniflare's own).
 * @param {number} port
 * @param {string} id `core:user:<name>`; the floor's worker has no name
 */
async function inspectorTarget(port, id) {
  /** @type {{ id: string, webSocketDebuggerUrl: string }[]} */
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const t = targets.find((x) => x.id === id);
  if (!t) throw new Error(`no inspector target ${id}; workerd lists: ${targets.map((x) => x.id).join(", ")}`);
  return t.webSocketDebuggerUrl;
}

/** @param {string} url */
function cdp(url) {
  return new Promise((resolveOpen, rejectOpen) => {
    const ws = new WebSocket(url);
    sockets.push(ws);
    let seq = 0;
    /** @type {Map<number, { ok: (v: any) => void, fail: (e: Error) => void }>} */
    const waiting = new Map();
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data));
      const w = msg.id === undefined ? undefined : waiting.get(msg.id);
      if (!w) return;
      waiting.delete(msg.id);
      if (msg.error) w.fail(new Error(`${msg.error.message} (${msg.error.code})`));
      else w.ok(msg.result);
    };
    ws.onclose = () => {
      for (const w of waiting.values()) w.fail(new Error("inspector connection closed"));
      waiting.clear();
    };
    ws.onerror = () => rejectOpen(new Error(`cannot connect to the inspector at ${url}`));
    ws.onopen = () =>
      resolveOpen({
        /** @param {string} method @param {object} [params] @returns {Promise<any>} */
        send: (method, params = {}) =>
          new Promise((ok, fail) => {
            const id = ++seq;
            waiting.set(id, { ok, fail });
            ws.send(JSON.stringify({ id, method, params }));
          }),
      });
  });
}

/**
 * Samples one isolate while the clients run sign-ins for DURATION_S seconds; counts every sign-in that completes
 * between Profiler.start and Profiler.stop (the driver waits for the last ones), and the workerd process's CPU.
 * @template S
 * @param {number} port the inspector's
 * @param {string} target
 * @param {S[]} states
 * @param {(s: S) => Promise<unknown>} iterate
 * @param {number[]} pids workerd's
 */
async function profileWhile(port, target, states, iterate, pids) {
  const inspector = /** @type {{ send: (method: string, params?: object) => Promise<any> }} */ (
    await cdp(await inspectorTarget(port, target))
  );
  await inspector.send("Profiler.enable");
  await inspector.send("Profiler.setSamplingInterval", { interval: SAMPLING_US });
  let signins = 0;
  const cpu0 = cpuSeconds(pids);
  await inspector.send("Profiler.start");
  log(`profiling ${target} (every ${SAMPLING_US} µs) during ${DURATION_S} s of sign-ins at concurrency ${CONCURRENCY}`);
  const result = await drive({
    states,
    iterate: async (s) => {
      const r = await iterate(s);
      signins++;
      return r;
    },
    warmupMs: 0,
    durationMs: DURATION_S * 1000,
  });
  /** @type {{ profile: CpuProfile }} */
  const { profile } = await inspector.send("Profiler.stop");
  const cpu1 = cpuSeconds(pids);
  await inspector.send("Profiler.disable");
  if (signins === 0) throw new Error(`${target}: no sign-in completed: ${result.firstError}`);
  const workerdMs = cpu0 != null && cpu1 != null ? ((cpu1 - cpu0) * 1000) / signins : null;
  return { profile, signins, result, workerdMs };
}

// ---------- source map (scripts/lib/source-map.mjs), generated (line, column) → original (source, line, name) ----------

/**
 * @param {{ sources: string[], names?: string[], mappings: string }} map
 * @returns {(line: number, column: number) => { source: string, line: number, name?: string } | undefined} 0-based
 */
function sourceMapLookup(map) {
  const lines = decodeMappings(map.mappings);
  return (line, column) => {
    const segs = lines[line];
    if (!segs) return undefined;
    let best;
    for (const s of segs) {
      if ((s[0] ?? 0) > column) break;
      best = s;
    }
    if (!best || best.length < 4) return undefined;
    // The segment at a function's position names it (esbuild keeps the original identifier in `names`).
    return {
      source: map.sources[best[1] ?? 0] ?? "?",
      line: best[2] ?? 0,
      name: best.length > 4 ? map.names?.[best[4] ?? 0] : undefined,
    };
  };
}

// ---------- categories ----------

/** Library groups (first match wins) by package name. */
const LIBRARIES = [
  [/^hono$/, "hono"],
  [/^(zod|@hono\/zod-openapi|@asteasolutions\/zod-to-openapi|openapi3-ts)$/, "zod / @hono/zod-openapi"],
  [/^drizzle-orm$/, "drizzle-orm"],
  [/^jose$/, "jose"],
  [/^@simplewebauthn\//, "@simplewebauthn/server"],
  [
    /^(@peculiar\/|asn1js|pvtsutils|pvutils|@levischuck\/tiny-cbor|tslib|reflect-metadata)/,
    "@peculiar/*, asn1js, tiny-cbor (via @simplewebauthn)",
  ],
];

/** @param {string} source a source map entry (relative to the bundle's folder) */
function categoryOf(source) {
  const nm = source.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const parts = source.slice(nm + "node_modules/".length).split("/");
    const pkg = parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? "?");
    for (const [re, label] of LIBRARIES) if (/** @type {RegExp} */ (re).test(pkg)) return /** @type {string} */ (label);
    return `other library (${pkg})`;
  }
  const src = source.match(/(?:^|\/)src\/(.*)$/)?.[1];
  if (src !== undefined) {
    const folder = src.split("/")[0] ?? "";
    return ["webauthn", "services", "repo", "http", "routes", "crypto"].includes(folder) ? `ours: src/${folder}` : "ours: other src";
  }
  return `bundle glue (${source.split("/").pop()})`;
}

const PROGRAM = "(program): workerd's C++ for the isolate, no JS frame";
/** Native work done for the sign-in's signature verify and token sign (workerd's WebCrypto, BoringSSL). */
const CRYPTO_NATIVE = "crypto.subtle verify + sign (native, in their JS callers)";
const CRYPTO_OTHER = "crypto.subtle importKey + digest (native, in their JS callers)";
/**
 * workerd runs WebCrypto synchronously in C++ and V8 charges that time to the JS function that made the call (no frame
 * of its own): the self time of these library functions, whose own JS is a few statements around the call, is the
 * native crypto. `verifyEC2` (and its RSA/OKP siblings) call `subtle.importKey` through `importJWKKey`, a frame of
 * its own, then `subtle.verify`; jose's `createSignature` calls `subtle.sign`.
 * @type {[RegExp, RegExp, string][]} source, function name, category
 */
const CRYPTO_CALLERS = [
  [/@simplewebauthn\/server\/.*isoCrypto\/verify(EC2|RSA|OKP)\.js$/, /^verify(EC2|RSA|OKP)$/, CRYPTO_NATIVE],
  [/jose\/dist\/webapi\/lib\/jws_sign\.js$/, /^createSignature$/, CRYPTO_NATIVE],
  [/@simplewebauthn\/server\/.*isoCrypto\/(importJWKKey|digest)\.js$/, /^(importJWKKey|digest)$/, CRYPTO_OTHER],
];

/**
 * @typedef {{ id: number, callFrame: { functionName: string, url: string, lineNumber: number, columnNumber: number },
 *   children?: number[], positionTicks?: { line: number, ticks: number }[] }} ProfileNode
 * @typedef {{ nodes: ProfileNode[], samples: number[], timeDeltas: number[], startTime: number, endTime: number }} CpuProfile
 */

/**
 * Self time per node, in µs: its sample count × the sampler's effective period. V8 takes a sample only while the
 * isolate is entered on workerd's thread (libsampler skips it otherwise), so the time between two samples is not all
 * ours: while workerd runs Miniflare's entry, D1 or KV isolates or waits for I/O, no sample is taken and the gap grows.
 * The period actually achieved (longer than the one asked for on a busy machine) is the median time between samples;
 * sampling is independent of what the isolate runs, so count × period estimates the time entered in each frame.
 * @param {CpuProfile} p
 */
function selfTimes(p) {
  /** @type {Map<number, number>} */
  const count = new Map();
  for (const id of p.samples) count.set(id, (count.get(id) ?? 0) + 1);
  const periodUs = periodOf(p);
  /** @type {Map<number, number>} */
  const self = new Map([...count].map(([id, n]) => [id, n * periodUs]));
  return { self, periodUs, wallUs: p.endTime - p.startTime };
}

/** The sampler's achieved period (µs): the median time between samples. @param {CpuProfile} p */
function periodOf(p) {
  const sorted = [...p.timeDeltas].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? SAMPLING_US;
}

/**
 * The floor's isolate per sign-in (ms): all it sampled but (idle), by where it fell. Its verify + sign are the same two
 * operations as ours (one P-256 verify, one ES256 sign, same runtime), so ours, measured in the same run, is taken
 * off: the floor's own frames cannot be split reliably (the sample lines of its optimised code move around).
 * @param {CpuProfile} p
 * @param {number} signins
 * @param {number} cryptoMs our verify + sign per sign-in
 */
function floorFigures(p, signins, cryptoMs) {
  const period = periodOf(p);
  /** @type {Map<number, number>} */
  const count = new Map();
  for (const id of p.samples) count.set(id, (count.get(id) ?? 0) + 1);
  let total = 0;
  /** @type {Record<string, number>} */
  const parts = {};
  for (const n of p.nodes) {
    const hits = count.get(n.id) ?? 0;
    const f = n.callFrame;
    if (hits === 0 || f.functionName === "(idle)" || f.functionName === "(root)") continue;
    total += hits;
    const k = f.url.endsWith("floor.js")
      ? "floor.js with the native calls it makes"
      : f.url === "" && /^(verify|sign|importKey|digest)$/.test(f.functionName)
        ? "WebCrypto frames"
        : f.url.startsWith("cloudflare-internal:")
          ? "workerd's JS (D1 binding)"
          : /^\((program|garbage collector)\)$/.test(f.functionName)
            ? f.functionName
            : "other native frames (KV, JSON, Response…)";
    parts[k] = (parts[k] ?? 0) + hits;
  }
  const ms = (/** @type {number} */ hits) => (hits * period) / 1000 / signins;
  const breakdown = Object.entries(parts)
    .sort((a, b) => b[1] - a[1])
    .map(([k, hits]) => `${k} ${ms(hits).toFixed(2)}`)
    .join(", ");
  return { totalMs: ms(total), beyondMs: ms(total) - cryptoMs, breakdown };
}

/**
 * @param {CpuProfile} profile
 * @param {ReturnType<typeof sourceMapLookup>} lookup
 * @param {string} bundle the bundle's module name, as workerd reports it in a frame's url
 */
function summarise(profile, lookup, bundle) {
  const isBundle = (/** @type {string} */ url) => url === bundle || url.endsWith(`/${bundle}`);
  const { self, periodUs, wallUs } = selfTimes(profile);
  /** @type {Map<number, ProfileNode>} */
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  /** @type {Map<number, number>} */
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

  /** @param {ProfileNode} n */
  const mapped = (n) => {
    const f = n.callFrame;
    if (!isBundle(f.url)) return undefined;
    return lookup(f.lineNumber, f.columnNumber);
  };
  /** Category of a node: by its own frame; a native frame (no url) by what it is and who called it. */
  const categoryCache = new Map();
  /** @param {ProfileNode} n @returns {string} */
  const category = (n) => {
    const hit = categoryCache.get(n.id);
    if (hit) return hit;
    const f = n.callFrame;
    /** @type {string} */
    let c;
    if (f.functionName === "(idle)") c = "(idle)";
    else if (f.functionName === "(program)") c = PROGRAM;
    else if (f.functionName === "(garbage collector)") c = "(garbage collector)";
    else if (f.functionName === "(root)") c = "(root)";
    else if (f.url === "") {
      // A native function called from JS (workerd's C++ through JSG, or a V8 builtin): WebCrypto's verify and sign
      // are the sign-in's irreducible work; the rest is charged to its JS caller's category.
      if (/^(verify|sign)$/.test(f.functionName)) c = CRYPTO_NATIVE;
      else if (/^(digest|importKey|exportKey|generateKey|getRandomValues|randomUUID|deriveBits)$/.test(f.functionName)) c = CRYPTO_OTHER;
      else {
        const up = parent.get(n.id);
        const pn = up === undefined ? undefined : byId.get(up);
        c = pn && pn.callFrame.functionName !== "(root)" ? category(pn) : "native, no JS caller";
      }
    } else if (isBundle(f.url)) {
      const m = mapped(n);
      const site = m && CRYPTO_CALLERS.find(([src, name]) => src.test(m.source) && name.test(m.name ?? ""));
      c = site ? site[2] : m ? categoryOf(m.source) : "bundle, unmapped";
    } else if (f.url.startsWith("cloudflare-internal:") || f.url.startsWith("node-internal:")) c = `workerd's JS (${f.url.split(":")[1]})`;
    else c = `runtime (${f.url})`;
    categoryCache.set(n.id, c);
    return c;
  };

  /** A function's readable name and original location. @param {ProfileNode} n */
  const label = (n) => {
    const f = n.callFrame;
    const m = mapped(n);
    const name = (m ? m.name : undefined) ?? (f.functionName || "(anonymous)");
    const where = m ? `${shortSource(m.source)}:${m.line + 1}` : f.url ? `${f.url}:${f.lineNumber + 1}` : "native";
    return { name, where, key: `${name} ${where}`, ours: m !== undefined && categoryOf(m.source).startsWith("ours:") };
  };

  /** @type {Map<string, number>} */
  const byCategory = new Map();
  /** @type {Map<string, { name: string, us: number, where: string, category: string }>} */
  const byFunction = new Map();
  for (const [id, us] of self) {
    const n = byId.get(id);
    if (!n || us === 0) continue;
    const c = category(n);
    byCategory.set(c, (byCategory.get(c) ?? 0) + us);
    const l = label(n);
    const e = byFunction.get(l.key) ?? { name: l.name, us: 0, where: l.where, category: c };
    e.us += us;
    byFunction.set(l.key, e);
  }
  const functions = [...byFunction.values()].sort((a, b) => b.us - a.us);

  // Total time (callees included) of each of our functions, a recursive or re-entered one counted once per stack.
  /** @type {Map<number, number>} */
  const subtree = new Map();
  /** @param {number} id @returns {number} */
  const sum = (id) => {
    const n = byId.get(id);
    const t = (self.get(id) ?? 0) + (n?.children ?? []).reduce((a, c) => a + sum(c), 0);
    subtree.set(id, t);
    return t;
  };
  for (const n of profile.nodes) if (!parent.has(n.id)) sum(n.id);
  /** @type {Map<string, { name: string, us: number, where: string }>} */
  const inclusive = new Map();
  /** @param {number} id @param {Set<string>} open keys on the stack above */
  const walk = (id, open) => {
    const n = byId.get(id);
    if (!n) return;
    const l = label(n);
    let next = open;
    if (l.ours && !open.has(l.key)) {
      const e = inclusive.get(l.key) ?? { name: l.name, us: 0, where: l.where };
      e.us += subtree.get(id) ?? 0;
      inclusive.set(l.key, e);
      next = new Set(open).add(l.key);
    }
    for (const c of n.children ?? []) walk(c, next);
  };
  for (const n of profile.nodes) if (!parent.has(n.id)) walk(n.id, new Set());
  const ourTotals = [...inclusive.values()].sort((a, b) => b.us - a.us);
  return { byCategory, functions, ourTotals, periodUs, wallUs, samples: profile.samples.length };
}

/** `src/services/signin.ts`, `hono/dist/compose.js`: a source map entry without its relative prefix. @param {string} source */
function shortSource(source) {
  const nm = source.lastIndexOf("node_modules/");
  if (nm >= 0) return source.slice(nm + "node_modules/".length);
  const src = source.lastIndexOf("src/");
  return src >= 0 ? source.slice(src) : source.replace(/^(\.\.\/)+/, "");
}

// ---------- BENCHMARKS.md ----------

const PROFILE_PREFACE = `\`npm run bench:profile\` (scripts/bench/profile.mjs) serves the same build as the bench with workerd's V8
inspector on a loopback port and samples **our Worker's isolate only** (inspector target \`${TARGET}\`; Miniflare's
entry worker and its D1 and KV simulators are other isolates, left out) while 16 clients run Smart sign-ins. Each
sampled frame of the minified bundle is mapped to its original source through wrangler's source map and counted as our
code (\`src/<folder>\`), a library (by package), workerd's own JS (the D1 binding's wrapper) or native. How native
work is attributed: workerd runs WebCrypto synchronously in C++ (BoringSSL) and V8 charges it to the JS function that
called it, so the self time of @simplewebauthn's \`verifyEC2\` (its own JS is a few statements around
\`subtle.verify\`) and jose's \`createSignature\` (around \`subtle.sign\`), plus any native frame named \`verify\` or
\`sign\`, is the verify + sign; \`importJWKKey\` and \`digest\` likewise are \`subtle.importKey\` and
\`subtle.digest\`. Other native calls (JSON, console.log, Headers, KV) are charged to their JS caller; console.log
costs more with an inspector attached (about 35 µs a call against 16–25 µs without, in a one-off test of this workerd),
so the request log line (src/http/log.ts) reads a few hundredths of a millisecond high. "(program)" is
time the isolate is entered with no JS on the stack (workerd's C++ working for it: request dispatch, promise and I/O
plumbing) and counts as ours; "(idle)" does not. V8 samples the isolate only while it is entered on workerd's thread, so
each sample counts for the sampler's achieved period (the median time between samples, longer than asked for on a busy
machine), not for the gap to the next one (that gap holds other isolates and waiting). **Beyond verify + sign** =
everything sampled except (idle) and the verify + sign, divided by the sign-ins completed while sampling. The floor
worker is then profiled the same way, and our verify + sign (the same two operations) taken off its total: that shows
how much of "beyond" any Worker pays here.
CPU per sign-in varies with the machine's load (shared cores) less than latency does, but it does vary: compare the
two workers of one run, or runs at a similar load.`;

const ms = (/** @type {number} */ us, /** @type {number} */ n) => (us / 1000 / n).toFixed(3);

/**
 * Per sign-in (ms): everything sampled in the isolate except (idle) is its CPU; "beyond" leaves out the native verify
 * and sign; "(program)" (workerd's C++ running for the isolate with no JS on the stack) is part of both.
 * @param {ReturnType<typeof summarise>} s
 * @param {number} signins
 */
function figures(s, signins) {
  const cat = (/** @type {string} */ c) => (s.byCategory.get(c) ?? 0) / 1000 / signins;
  let total = 0;
  let ours = 0;
  let workerd = 0;
  for (const [c, us] of s.byCategory) {
    if (c === "(idle)" || c === "(root)") continue;
    total += us / 1000 / signins;
    if (c.startsWith("ours:")) ours += us / 1000 / signins;
    if (c.startsWith("workerd's JS")) workerd += us / 1000 / signins;
  }
  const crypto = cat(CRYPTO_NATIVE);
  const program = cat(PROGRAM);
  const gc = cat("(garbage collector)");
  return {
    totalMs: total,
    cryptoMs: crypto,
    beyondMs: total - crypto,
    oursMs: ours,
    workerdJsMs: workerd,
    programMs: program,
    gcMs: gc,
    libsMs: total - crypto - ours - workerd - program - gc,
  };
}

try {
  log("building: wrangler deploy --dry-run (minified, keep_names, source map) and the software authenticator");
  const bundleBytes = await buildAll(tmp);
  const mapFile = join(tmp, "wrangler-out", "index.js.map");
  if (!existsSync(mapFile)) throw new Error(`no source map at ${mapFile} (wrangler.toml: upload_source_maps = true)`);
  const lookup = sourceMapLookup(JSON.parse(readFileSync(mapFile, "utf8")));
  const { SoftAuthenticator } = await import(pathToFileURL(join(tmp, "authenticator.mjs")).href);

  const port = await freePort();
  const inspectorPort = await freePort();
  const before = new Set(workerdPids());
  const app = await serveApp(tmp, port, { inspectorPort });
  running.push(app.mf);
  const pids = workerdPids().filter((p) => !before.has(p));
  await migrateAndSeed(app.mf);
  log(`serving the built worker (${(bundleBytes / 1024).toFixed(0)} KiB) on ${app.url}, inspector on 127.0.0.1:${inspectorPort}`);

  const http = client(app.url, nodeHttp);
  const tenant = await setupTenant(http, app.issuer, Date.now().toString(36));
  const states = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => seedClient(http, tenant, SoftAuthenticator, { users: USERS_PER_CLIENT, regUsers: 0 })),
  );
  log(`seeded ${CONCURRENCY} clients through the public API (the bench's users); warm-up ${WARMUP_S} s`);
  const smart = FLOWS.find((f) => f.key === "smart");
  if (!smart) throw new Error("no Smart flow in flows.mjs");
  await drive({ states, iterate: (s) => smart.run(http, tenant, s), warmupMs: 0, durationMs: WARMUP_S * 1000 });

  const app1 = await profileWhile(inspectorPort, TARGET, states, (st) => smart.run(http, tenant, st), pids);
  const { profile, signins, result } = app1;
  const file = join(tmp, "smart-signin.cpuprofile");
  writeFileSync(file, JSON.stringify(profile));
  const keep = process.env.PROFILE_OUT ? resolve(process.env.PROFILE_OUT) : undefined;
  if (keep) copyFileSync(file, keep);
  log(`${signins} sign-ins (${result.failures} failures); profile ${keep ?? `${file} (removed at exit; PROFILE_OUT=<file> keeps it)`}`);
  await app.mf.dispose();
  running.splice(running.indexOf(app.mf), 1);

  // The floor worker, profiled the same way: what a sign-in costs an isolate that does only the irreducible work.
  const floorPort = await freePort();
  const floorInspector = await freePort();
  const beforeFloor = new Set(workerdPids());
  const floor = await serveFloor(tmp, floorPort, { inspectorPort: floorInspector });
  running.push(floor.mf);
  const floorPids = workerdPids().filter((p) => !beforeFloor.has(p));
  const fhttp = client(floor.url, nodeHttp);
  const floorStates = await Promise.all(
    Array.from({ length: CONCURRENCY }, () => seedFloorClient(fhttp, SoftAuthenticator, floor.origin, USERS_PER_CLIENT)),
  );
  await drive({ states: floorStates, iterate: (st) => floorSignin(fhttp, floor.origin, st), warmupMs: 0, durationMs: WARMUP_S * 1000 });
  const floorRun = await profileWhile(floorInspector, FLOOR_TARGET, floorStates, (st) => floorSignin(fhttp, floor.origin, st), floorPids);
  log(`floor: ${floorRun.signins} sign-ins (${floorRun.result.failures} failures)`);

  const s = summarise(profile, lookup, "worker.js");
  const f = figures(s, signins);
  const ff = floorFigures(floorRun.profile, floorRun.signins, f.cryptoMs);
  const workerdMs = app1.workerdMs;
  const categories = [...s.byCategory.entries()].sort((a, b) => b[1] - a[1]);
  const catTable = mdTable(
    ["category", "ms / sign-in", "share of sampled CPU"],
    ["l", "r", "r"],
    categories.map(([c, us]) => [
      c,
      ms(us, signins),
      c === "(idle)" || c === "(root)" ? "–" : `${((us / 1000 / signins / f.totalMs) * 100).toFixed(1)}%`,
    ]),
  );
  const topTable = mdTable(
    ["function", "original source", "category", "self ms / sign-in"],
    ["l", "l", "l", "r"],
    s.functions
      .filter((x) => x.category !== "(idle)" && x.category !== "(root)")
      .slice(0, TOP)
      .map((x) => [`\`${x.name}\``, x.where, x.category, ms(x.us, signins)]),
  );
  const env = environment();
  const date = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  const body = [
    `${date} · ${signins} Smart sign-ins (options + finish) in ${DURATION_S} s at concurrency ${CONCURRENCY} after ${WARMUP_S} s warm-up` +
      ` (${result.failures} failures; ${(signins / DURATION_S).toFixed(1)}/s while sampled) · V8 sampling of` +
      ` isolate \`${TARGET}\` asked every ${SAMPLING_US} µs, achieved ${s.periodUs} µs (median), ${s.samples} samples · built worker ${(bundleBytes / 1024).toFixed(0)} KiB · commit ${env.commit}` +
      ` · load average at the end ${env.loadAvg} on ${env.cores} cores`,
    "",
    `**Our Worker's isolate: ${f.totalMs.toFixed(2)} ms of CPU per sign-in**; the signature verify and token sign (native` +
      ` WebCrypto) take ${f.cryptoMs.toFixed(2)} ms of it, so **${f.beyondMs.toFixed(2)} ms beyond verify + sign** (target ≤ 1 ms):` +
      ` src/ ${f.oursMs.toFixed(2)} ms, libraries ${f.libsMs.toFixed(2)} ms, workerd's JS for the bindings (D1, rate limiter)` +
      ` ${f.workerdJsMs.toFixed(2)} ms, (program) ${f.programMs.toFixed(2)} ms, garbage collection ${f.gcMs.toFixed(2)} ms.` +
      ` For scale, the whole workerd process (this isolate, Miniflare's entry worker and its D1 and KV simulators, SQLite)` +
      ` used ${workerdMs == null ? "–" : workerdMs.toFixed(2)} ms per sign-in over the same window (/proc, user + system;` +
      ` this isolate is ${workerdMs ? ((f.totalMs / workerdMs) * 100).toFixed(0) : "–"}% of it).`,
    "",
    `**The floor worker** (scripts/bench/floor.ts), profiled the same way right after (${floorRun.signins} sign-ins in` +
      ` ${DURATION_S} s, ${floorRun.result.failures} failures): **${ff.totalMs.toFixed(2)} ms** of its isolate's CPU per sign-in,` +
      ` less our verify + sign (${f.cryptoMs.toFixed(2)} ms, the same two operations): **${ff.beyondMs.toFixed(2)} ms beyond** (${ff.breakdown}). Ours ÷ floor beyond verify + sign: **${(f.beyondMs / ff.beyondMs).toFixed(1)}×**.`,
    "",
    catTable,
    "",
    `Top ${TOP} functions by self time (native calls inside a function are its self time):`,
    "",
    topTable,
    "",
    `Our functions (src/) by total time, callees included (top ${OURS_TOP}; what runs after an \`await\` is counted for the` +
      " function that resumes, not for its caller):",
    "",
    mdTable(
      ["function", "source", "total ms / sign-in"],
      ["l", "l", "r"],
      s.ourTotals.slice(0, OURS_TOP).map((x) => [`\`${x.name}\``, x.where, ms(x.us, signins)]),
    ),
  ].join("\n");
  console.log(`\n${body}\n`);
  writeSection("profile", `## Profile\n\n${PROFILE_PREFACE}\n\n${body}`);
  log("wrote the Profile section of BENCHMARKS.md");
} catch (e) {
  console.error(`[profile] failed: ${e instanceof Error ? (e.stack ?? e.message) : e}`);
  if (runtimeLog.tail) console.error(`[profile] workerd's last stderr output:\n${runtimeLog.tail}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  log("stopped Miniflare, removed the temp folder");
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}
