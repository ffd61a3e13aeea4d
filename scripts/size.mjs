#!/usr/bin/env node
/**
 * `npm run size`: the Worker bundle as `wrangler deploy` would upload it, and its cold start.
 *
 * 1. Builds with `wrangler deploy --dry-run --outdir <tmp> --metafile` (wrangler.toml's minify, keep_names, alias).
 * 2. Prints raw and gzip size, and the 15 largest packages and modules by bytes in the output (esbuild's metafile),
 *    each package also gzipped alone (its output bytes, found through the source map).
 * 3. Cold start: Miniflare (the workerd that wrangler ships) loads the built script and answers its first request
 *    (`GET /`, no storage), 5 times, fresh each time; the same for a one-line Worker, so the difference is what this
 *    script's size and top-level work cost. Then `wrangler check startup`'s local CPU profile of the startup phase.
 *    The built bundle must also answer /openapi.json and /docs (the document's hash lets two builds be compared).
 * `--config <file>` measures another wrangler configuration. Everything goes to a temporary directory, removed at the
 * end. Under a minute.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { gzipSync } from "node:zlib";
import { Miniflare } from "miniflare";
import { decodeMappings } from "./lib/source-map.mjs";

const root = resolve(import.meta.dirname, "..");
// `npm run size -- --config other.toml`: another wrangler configuration (e.g. a before/after comparison).
const configArg = process.argv.indexOf("--config");
const config = configArg > 0 ? resolve(process.argv[configArg + 1]) : join(root, "wrangler.toml");
const wrangler = join(root, "node_modules", ".bin", "wrangler");
const dir = mkdtempSync(join(tmpdir(), "passkey-edge-size-"));
const RUNS = 5;
const TOP = 15;

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gzip = (buf) => gzipSync(buf, { level: 9 }).length;

function run(args) {
  const r = spawnSync(wrangler, args, { cwd: root, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

/** Package of an input path: `zod`, `@scope/name`, or `src/<folder>` for our own code. */
function packageOf(input) {
  const i = input.lastIndexOf("node_modules/");
  if (i < 0) {
    const parts = input.split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  const parts = input.slice(i + "node_modules/".length).split("/");
  return parts[0].startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0];
}

/** Output bytes per source file, from the source map's mappings. */
function bytesPerSource(code, map) {
  const lines = code.split("\n");
  const chunks = map.sources.map(() => []);
  decodeMappings(map.mappings).forEach((segs, lineNo) => {
    const text = lines[lineNo] ?? "";
    let prev = null;
    for (const seg of segs) {
      if (prev) chunks[prev[1]].push(text.slice(prev[0], seg[0]));
      prev = seg.length > 1 ? seg : null;
    }
    if (prev) chunks[prev[1]].push(text.slice(prev[0]));
  });
  return chunks;
}

// 1. Build as deployed.
const build = run(["deploy", "-c", config, "--dry-run", "--outdir", dir, "--metafile", join(dir, "meta.json")]);
if (!build.ok) {
  console.error(build.out);
  rmSync(dir, { recursive: true, force: true });
  process.exit(1);
}
const code = readFileSync(join(dir, "index.js"), "utf8");
const bytes = Buffer.byteLength(code);
const upload = build.out.match(/Total Upload: ([\d.]+ KiB) \/ gzip: ([\d.]+ KiB)/);
console.log(`Bundle (wrangler deploy --dry-run): ${kib(bytes)} raw, ${kib(gzip(code))} gzip (level 9)`);
if (upload) console.log(`wrangler's "Total Upload": ${upload[1]} / gzip: ${upload[2]}`);

// 2. What is in it.
const meta = JSON.parse(readFileSync(join(dir, "meta.json"), "utf8"));
const output = Object.values(meta.outputs).find((o) => o.entryPoint);
const modules = Object.entries(output.inputs)
  .map(([path, v]) => ({ path, bytes: v.bytesInOutput }))
  .filter((m) => m.bytes > 0);
const packages = new Map();
for (const m of modules) packages.set(packageOf(m.path), (packages.get(packageOf(m.path)) ?? 0) + m.bytes);
let gzipOf = () => undefined;
try {
  const map = JSON.parse(readFileSync(join(dir, "index.js.map"), "utf8"));
  const chunks = bytesPerSource(code, map);
  const perPackage = new Map();
  map.sources.forEach((s, i) => {
    const key = packageOf(s.replace(/^(\.\.\/)+/, "").replace(/^.*?(node_modules\/|src\/)/, "$1"));
    perPackage.set(key, [...(perPackage.get(key) ?? []), ...chunks[i]]);
  });
  // A package whose own source maps point outside it (drizzle-orm's ../src/*.ts) is not found this way: no figure.
  gzipOf = (pkg, raw) => {
    const text = (perPackage.get(pkg) ?? []).join("");
    return Buffer.byteLength(text) >= 0.9 * raw ? gzip(text) : undefined;
  };
} catch {
  // No source map: raw sizes only.
}
console.log(`\nLargest packages (bytes in the output; gzip: that package's output alone, through the source map):`);
for (const [pkg, n] of [...packages].sort((a, b) => b[1] - a[1]).slice(0, TOP)) {
  const gz = gzipOf(pkg, n);
  console.log(`  ${kib(n).padStart(10)}  ${(gz === undefined ? "" : kib(gz)).padStart(10)}  ${pkg}`);
}
console.log(`\nLargest modules (bytes in the output):`);
for (const m of modules.sort((a, b) => b.bytes - a.bytes).slice(0, TOP)) console.log(`  ${kib(m.bytes).padStart(10)}  ${m.path}`);

// 3. Cold start: workerd loads the script and answers its first request. Timings are wall clock: on a busy machine
// they grow (the load average is printed with them).
const wranglerToml = readFileSync(config, "utf8");
const compatibilityDate = wranglerToml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)?.[1];
const compatibilityFlags = JSON.parse(wranglerToml.match(/^compatibility_flags\s*=\s*(\[[^\]]*\])/m)?.[1] ?? "[]");
const trivial = join(dir, "trivial.js");
writeFileSync(trivial, 'export default { fetch: () => new Response("ok") };\n');

/** workerd's stdout (the Worker's request log lines) is dropped; its stderr is shown. */
function quiet(stdout, stderr) {
  stdout.resume();
  stderr.on("data", (chunk) => process.stderr.write(chunk));
}

/**
 * The built script served alone, with the bindings' names only. The module is given whole: with only a path, Miniflare
 * parses the script in Node to find its imports, which would be timed too.
 */
const serveScript = (scriptPath, contents = readFileSync(scriptPath, "utf8")) =>
  new Miniflare({
    modules: [{ type: "ESModule", path: scriptPath, contents }],
    modulesRoot: dirname(scriptPath),
    compatibilityDate,
    compatibilityFlags,
    d1Databases: ["DB"],
    kvNamespaces: ["CHALLENGES"],
    bindings: { ENVIRONMENT: "production" },
    handleRuntimeStdio: quiet,
    d1Persist: false,
    kvPersist: false,
  });

async function coldStart(scriptPath) {
  const t0 = performance.now();
  const mf = serveScript(scriptPath);
  try {
    await mf.ready;
    const t1 = performance.now();
    const res = await mf.dispatchFetch("http://localhost/", { redirect: "manual" });
    await res.arrayBuffer();
    const t2 = performance.now();
    return { ready: t1 - t0, first: t2 - t1, total: t2 - t0, status: res.status };
  } finally {
    await mf.dispose();
  }
}

const ours = [];
const base = [];
for (let i = 0; i < RUNS; i++) {
  base.push(await coldStart(trivial));
  ours.push(await coldStart(join(dir, "index.js")));
}
const ms = (n) => `${n.toFixed(0)} ms`;
const row = (name, rs) =>
  `  ${name.padEnd(16)} ready ${ms(median(rs.map((r) => r.ready))).padStart(7)}   first answer ${ms(median(rs.map((r) => r.first))).padStart(6)}   total ${ms(median(rs.map((r) => r.total))).padStart(7)}   (GET / -> ${rs[0].status})`;
const load = loadavg()[0].toFixed(1);
console.log(`\nCold start (Miniflare: new → ready → first dispatchFetch; median of ${RUNS}; load ${load} on ${cpus().length} CPUs):`);
console.log(row("this Worker", ours));
console.log(row("one-line Worker", base));
console.log(`  difference: ${ms(median(ours.map((r) => r.total)) - median(base.map((r) => r.total)))} (script size and top-level work)`);

// The built bundle answers what the suite checks on the source: the OpenAPI document (its hash, to compare builds)
// and the reference page.
{
  const mf = serveScript(join(dir, "index.js"), code);
  try {
    const doc = await mf.dispatchFetch("http://localhost/openapi.json");
    const text = await doc.text();
    const docs = await mf.dispatchFetch("http://localhost/docs");
    await docs.arrayBuffer();
    const paths = doc.status === 200 ? Object.keys(JSON.parse(text).paths ?? {}).length : 0;
    const hash = createHash("sha256").update(text).digest("hex").slice(0, 16);
    console.log(`\nBuilt bundle: GET /openapi.json ${doc.status} (${paths} paths, sha256 ${hash}…), GET /docs ${docs.status}`);
    if (doc.status !== 200 || docs.status !== 200) process.exitCode = 1;
  } finally {
    await mf.dispose();
  }
}

// 4. Startup CPU: wrangler's local profile of the startup phase (Cloudflare's own figure needs a real deploy).
const profilePath = join(dir, "startup.cpuprofile");
const check = run(["check", "startup", "-c", config, "--outfile", profilePath]);
try {
  const profile = JSON.parse(readFileSync(profilePath, "utf8"));
  const idle = new Set(profile.nodes.filter((n) => ["(idle)", "(program)"].includes(n.callFrame.functionName)).map((n) => n.id));
  let active = 0;
  profile.samples.forEach((id, i) => {
    if (!idle.has(id)) active += profile.timeDeltas[i] ?? 0;
  });
  console.log(`\nStartup CPU (wrangler check startup, local workerd, sampled): ${(active / 1000).toFixed(1)} ms active of a`);
  console.log(
    `  ${((profile.endTime - profile.startTime) / 1000).toFixed(1)} ms profile window. Cloudflare reports its own startup time only on a real deploy.`,
  );
} catch {
  console.log(`\nStartup CPU: wrangler check startup gave no profile:\n${check.out.trim().split("\n").slice(-5).join("\n")}`);
}

rmSync(dir, { recursive: true, force: true });
