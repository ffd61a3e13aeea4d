// @ts-check
/**
 * The bench's report: the table (printed and written), the machine and versions, and BENCHMARKS.md (a preface, the
 * latest run with a comparison against the run it replaces, that previous run, and one line per older run). The
 * figures of each run are also kept in an HTML comment (`bench-data`) so the next run can compare.
 */
import { execSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";

const FILE = "BENCHMARKS.md";
const DATA = /<!-- bench-data (\{.*?\}) -->/;
/** A section another script owns: `<!-- NAME:start -->` … `<!-- NAME:end -->`. */
const MARKED = /<!-- ([a-z-]+):start -->[\s\S]*?<!-- \1:end -->\n*/g;

/** @param {string} pkg */
const version = (pkg) => {
  try {
    return JSON.parse(readFileSync(`node_modules/${pkg}/package.json`, "utf8")).version;
  } catch {
    return "?";
  }
};

export function environment() {
  const cpus = os.cpus();
  let commit = "unknown";
  try {
    commit = execSync("git rev-parse --short HEAD", { encoding: "utf8" }).trim();
    if (execSync("git status --porcelain --untracked-files=no", { encoding: "utf8" }).trim() !== "") commit += " + local changes";
  } catch {
    // not a git checkout
  }
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()}`,
    loadAvg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    node: process.version,
    workerd: version("workerd"),
    miniflare: version("miniflare"),
    wrangler: version("wrangler"),
    commit,
  };
}

/** @param {number | null | undefined} n @param {number} [digits] */
const num = (n, digits = 1) => (n == null || Number.isNaN(n) ? "–" : n.toFixed(digits));

/** @param {{ d1RoundTrips: number, d1Statements: number, kvReads: number, kvWrites: number, kvDeletes: number, kvLists: number }} u */
function use(u) {
  const parts = [];
  if (u.d1RoundTrips > 0) parts.push(`D1 ${u.d1RoundTrips}${u.d1Statements !== u.d1RoundTrips ? ` (${u.d1Statements} st)` : ""}`);
  const kv = [
    [u.kvReads, "r"],
    [u.kvWrites, "w"],
    [u.kvDeletes, "d"],
    [u.kvLists, "l"],
  ]
    .filter(([n]) => Number(n) > 0)
    .map(([n, k]) => `${n}${k}`);
  if (kv.length > 0) parts.push(`KV ${kv.join(" ")}`);
  return parts.length === 0 ? "none" : parts.join(", ");
}

/**
 * "options: KV 1w · finish: D1 2 (3 st), KV 1r [+ later KV 1d]"
 * @param {{ name: string, critical: any, deferred: any }[] | undefined} census
 */
export function storageText(census) {
  if (!census) return "–";
  return census
    .map((r) => {
      const later = use(r.deferred);
      return `${r.name}: ${use(r.critical)}${later === "none" ? "" : ` [+ waitUntil ${later}]`}`;
    })
    .join(" · ");
}

/**
 * A Markdown table with padded columns (readable in a terminal; Biome formats BENCHMARKS.md the same way).
 * @param {string[]} header
 * @param {("l" | "r")[]} align
 * @param {string[][]} rows
 */
export function mdTable(header, align, rows) {
  const widths = header.map((h, i) => Math.max(h.length, align[i] === "r" ? 4 : 3, ...rows.map((r) => (r[i] ?? "").length)));
  const cell = (/** @type {string} */ v, /** @type {number} */ i) =>
    align[i] === "r" ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0);
  const line = (/** @type {string[]} */ cells) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = `| ${widths.map((w, i) => (align[i] === "r" ? `${"-".repeat(w - 1)}:` : "-".repeat(w))).join(" | ")} |`;
  return [line(header), rule, ...rows.map(line)].join("\n");
}

/**
 * @param {{ label: string, result: import("./drive.mjs").DriveResult, census?: any[] }[]} rows
 */
export function table(rows) {
  return mdTable(
    [
      "flow",
      "completed/s",
      "p50 ms",
      "p99 ms",
      "failures",
      "workerd CPU ms/op",
      "client CPU ms/op",
      "storage per request (D1 round trips, KV ops)",
    ],
    ["l", "r", "r", "r", "r", "r", "r", "l"],
    rows.map(({ label, result: x, census }) => [
      label,
      num(x.perSecond),
      num(x.p50),
      num(x.p99),
      String(x.failures),
      num(x.workerdCpuMs, 2),
      num(x.clientCpuMs, 2),
      storageText(census),
    ]),
  );
}

/**
 * @param {{ label: string, result: import("./drive.mjs").DriveResult }[]} rows
 */
export function notes(rows) {
  const out = [];
  for (const r of rows) {
    if (r.result.failures > 0) out.push(`- ${r.label}: ${r.result.failures} failures; first: ${r.result.firstError}`);
    if (r.result.exhausted > 0)
      out.push(`- ${r.label}: ${r.result.exhausted} clients ran out of prepared work before the end (rate over their active time)`);
  }
  return out;
}

/**
 * @param {Record<string, { label: string, perSecond: number, p50: number, p99: number }>} now
 * @param {{ date: string, commit: string, flows: Record<string, { label: string, perSecond: number, p50: number, p99: number }> } | undefined} before
 */
export function comparison(now, before) {
  if (!before) return "No earlier run recorded in BENCHMARKS.md.";
  const pct = (/** @type {number} */ a, /** @type {number} */ b) =>
    b > 0 ? `${a >= b ? "+" : ""}${(((a - b) / b) * 100).toFixed(0)}%` : "–";
  const rows = Object.entries(now).map(([key, f]) => {
    const b = before.flows[key];
    if (!b) return [f.label, `${num(f.perSecond)} (new)`, "–", num(f.p50), num(f.p99), "–"];
    return [
      f.label,
      `${num(f.perSecond)} (${num(b.perSecond)})`,
      pct(f.perSecond, b.perSecond),
      `${num(f.p50)} (${num(b.p50)})`,
      `${num(f.p99)} (${num(b.p99)})`,
      pct(f.p99, b.p99),
    ];
  });
  return [
    `The run this one replaced: ${before.date}, commit ${before.commit}.`,
    "",
    mdTable(["flow", "completed/s (was)", "Δ", "p50 ms (was)", "p99 ms (was)", "Δ p99"], ["l", "r", "r", "r", "r", "r"], rows),
  ].join("\n");
}

const PREFACE = `# Benchmarks

\`npm run bench\` (scripts/bench/) builds the Worker as deployed (\`wrangler deploy --dry-run\`), serves it with
Miniflare's API on 127.0.0.1 with a fresh local D1 and KV (no wrangler proxy), seeds users with passkeys through the
public API, and drives each flow for a fixed time with 16 concurrent closed-loop clients that use the test software
authenticator (real P-256 keys and signatures). In the same run it measures **the floor**: a minimal Worker
(scripts/bench/floor.ts) served the same way that does only the irreducible work of a sign-in (options: one KV write;
finish: one KV read, one D1 read, one ECDSA P-256 verify, one ES256 sign, one D1 batch of two writes). The whole run
takes under 4 minutes and rewrites this file; \`BENCH_DURATION=3 npm run bench\` is a quick smoke run (seconds per flow).

How to read it: *completed/s* is iterations (a sign-in is options + finish) finished per second in the measured
window, after a warm-up; *p50/p99* are per iteration; *workerd CPU ms/op* is the CPU time of the workerd process
(our Worker **and** Miniflare's local D1 and KV simulators) per iteration, *client CPU* that of the Node client (it
shares the machine); *storage per request* is counted in a separate pass through a census wrapper worker that
calls the same bundle on the same D1 and KV with counting bindings (the wrappers of the workers suite's budget
tests; the third of three iterations, with warm isolate caches): D1 round trips (a batch is one; statements in
parentheses) and KV reads (r), writes (w), deletes (d), with work handed to \`waitUntil\` apart. The OIDC token
request is timed alone: its codes are made beforehand through each client's provider session (that row is the
authorize endpoint's figure). Registration moves to a fresh user every 10 passkeys, untimed. Figures depend on the
machine and on what else runs on it: compare runs from the same machine only.

**Ours ÷ floor** is measured in **paired slices**: with both servers up, Smart sign-in and the floor run in alternating
short slices (ABBA order) and the ratio is that of their means. The flows of the table run one after the other over
about two minutes, and this shared machine's speed drifts by tens of percent within that time (two consecutive runs
of the sequential comparison gave 0.66 and 1.36), so only slices taken side by side compare the two workers fairly;
the sequential ratio is printed too.
`;

/**
 * @param {{ date: string, env: ReturnType<typeof environment>, body: string, data: object, oneLine: string }} run
 */
export function writeBenchmarks(run) {
  // Marked sections written by other scripts (`npm run bench:profile`) are kept as they are, after the latest run.
  const file = existsSync(FILE) ? readFileSync(FILE, "utf8") : "";
  const marked = [...file.matchAll(MARKED)].map((m) => m[0].trim());
  const old = file.replace(MARKED, "");
  const latestStart = old.indexOf("\n## Latest run");
  const previousStart = old.indexOf("\n## Previous run");
  const olderStart = old.indexOf("\n## Older runs");
  const cut = (/** @type {number} */ from, /** @type {number[]} */ ends) => {
    if (from < 0) return "";
    const end = Math.min(...ends.filter((e) => e > from), old.length);
    return old.slice(from, end).trim();
  };
  const latest = cut(latestStart, [previousStart, olderStart]);
  const previous = cut(previousStart, [olderStart]);
  const older = cut(olderStart, [])
    .split("\n")
    .filter((l) => l.startsWith("- "));
  const prevOneLine = previous.match(/<!-- bench-line (.*?) -->/)?.[1];
  if (prevOneLine) older.unshift(`- ${prevOneLine}`);

  const parts = [
    PREFACE,
    `## Latest run\n\n${run.body}\n\n<!-- bench-data ${JSON.stringify(run.data)} -->\n<!-- bench-line ${run.oneLine} -->`,
    ...marked,
  ];
  if (latest) {
    const demoted = latest
      .replace(/^## Latest run/, "## Previous run")
      .replace(/^### /gm, "#### ")
      .replace(/#### Against the previous run[\s\S]*?(?=\n#### |\n<!--|$)/, "")
      .replace(/\n{3,}/g, "\n\n");
    parts.push(demoted);
  }
  if (older.length > 0) parts.push(`## Older runs\n\n${older.slice(0, 20).join("\n")}`);
  writeFileSync(FILE, `${parts.join("\n\n").trim()}\n`);
  // `npm run lint` checks the file's formatting; let Biome have the last word on it.
  spawnSync("npx", ["biome", "format", "--write", FILE], { stdio: "ignore" });
}

/** The figures of the latest recorded run, for the comparison. */
export function lastRecorded() {
  if (!existsSync(FILE)) return undefined;
  const latest = readFileSync(FILE, "utf8").split("\n## Previous run")[0] ?? "";
  const m = latest.match(DATA);
  if (!m?.[1]) return undefined;
  try {
    return JSON.parse(m[1]);
  } catch {
    return undefined;
  }
}

/**
 * Writes (or replaces) the section between `<!-- name:start -->` and `<!-- name:end -->` in BENCHMARKS.md; a new one
 * goes after the latest run (before "## Previous run" or "## Older runs", else at the end). The rest is left as is.
 * @param {string} name
 * @param {string} text Markdown
 */
export function writeSection(name, text) {
  const file = existsSync(FILE) ? readFileSync(FILE, "utf8") : PREFACE;
  const block = `<!-- ${name}:start -->\n\n${text.trim()}\n\n<!-- ${name}:end -->\n\n`;
  const start = file.indexOf(`<!-- ${name}:start -->`);
  const endMark = `<!-- ${name}:end -->`;
  const end = file.indexOf(endMark);
  let out;
  if (start >= 0 && end > start) {
    const after = file.slice(end + endMark.length).replace(/^\n*/, "");
    out = `${file.slice(0, start)}${block}${after}`;
  } else {
    const at = ["\n## Previous run", "\n## Older runs"].map((h) => file.indexOf(h)).filter((i) => i >= 0);
    const i = at.length > 0 ? Math.min(...at) + 1 : file.length;
    out = `${file.slice(0, i).replace(/\n*$/, "\n\n")}${block}${file.slice(i)}`;
  }
  writeFileSync(FILE, `${out.trim()}\n`);
  spawnSync("npx", ["biome", "format", "--write", FILE], { stdio: "ignore" });
}
