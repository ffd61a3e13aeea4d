/**
 * Fuzzing helpers: run settings (fixed seed in `npm test`, more runs in `npm run fuzz`), the routes and request
 * schemas of the served OpenAPI document, fast-check arbitraries derived from those schemas plus hostile mutations,
 * and a digest of every D1 table (to prove that a rejected request wrote nothing).
 */
import { createExecutionContext, env, waitOnExecutionContext } from "cloudflare:test";
import fc from "fast-check";
import { inject, vi } from "vitest";
import worker from "../../src/index";

declare module "vitest" {
  export interface ProvidedContext {
    /** Runs per property, set by vitest.fuzz.config.ts (`npm run fuzz`, env FUZZ_RUNS). */
    fuzzRuns: number;
    /** Seed, set by vitest.fuzz.config.ts (env FUZZ_SEED, else random). */
    fuzzSeed: number;
  }
}

/** The seed of `npm test`: fixed, so a failure reproduces. */
export const FIXED_SEED = 20260514;

/**
 * Run settings. In `npm test` nothing is provided: the fixed seed and `base` runs. Under `npm run fuzz` every
 * property runs FUZZ_RUNS times (at least `base`) with FUZZ_SEED.
 */
export function fuzzSettings(): { seed: number; runs: (base: number) => number; extended: boolean } {
  const runs = inject("fuzzRuns");
  const seed = inject("fuzzSeed");
  const extended = typeof runs === "number" && runs > 0;
  return {
    seed: typeof seed === "number" ? seed : FIXED_SEED,
    runs: (base: number) => (extended ? Math.max(base, runs) : base),
    extended,
  };
}

// ---------- calling the Worker ----------

/**
 * Calls the Worker's real entrypoint (src/index.ts `fetch`) with the given bindings and waits for its waitUntil
 * work. Suites that send thousands of requests use this instead of SELF.fetch: in this pool SELF.fetch gets slower
 * with every call made in a test file (about 0.2 ms more per earlier call), a direct call stays flat.
 */
export async function dispatch(request: Request, bindings: Cloudflare.Env = env): Promise<Response> {
  const ctx = createExecutionContext();
  const res = await worker.fetch(request, bindings, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

/**
 * Drops the Worker's per-request log lines (src/http/log.ts) and its per-failure sign-in log from the test output,
 * thousands of them in these suites; other output stays.
 */
export function quietRequestLog(): void {
  const log = console.log.bind(console);
  vi.spyOn(console, "log").mockImplementation((...args: unknown[]) => {
    if (typeof args[0] === "string" && (args[0].startsWith('{"request_id"') || args[0].startsWith("passkey sign-in failed:"))) return;
    log(...args);
  });
}

// ---------- OpenAPI ----------

export interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  $ref?: string;
  additionalProperties?: boolean | Schema;
  format?: string;
}

export interface Param {
  name: string;
  in: "path" | "query" | "header";
  required: boolean;
  schema: Schema;
}

export interface Route {
  method: string;
  /** OpenAPI template, e.g. /api/identity/{tid}/system/pools/{ipID} */
  path: string;
  params: Param[];
  body?: { contentType: string; schema: Schema; required: boolean };
  /** The operation names a security requirement (a bearer token). */
  secured: boolean;
  /** The operation documents an HTML answer for 400 (the OpenID Provider's browser endpoints: an error page). */
  htmlErrors: boolean;
}

export interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        parameters?: Param[];
        requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
        security?: unknown[];
        responses?: Record<string, { content?: Record<string, unknown> }>;
      }
    >
  >;
  components?: { schemas?: Record<string, Schema> };
}

export interface Api {
  routes: Route[];
  /** Resolves `$ref` (one level at a time; schemas here do not recurse). */
  resolve: (s: Schema) => Schema;
}

const METHODS = ["get", "post", "put", "patch", "delete"];

export function routesOf(doc: OpenApiDoc): Api {
  const resolve = (s: Schema): Schema => {
    let cur = s;
    for (let i = 0; cur.$ref && i < 10; i++) {
      const name = cur.$ref.replace(/^#\/components\/schemas\//, "");
      const target = doc.components?.schemas?.[name];
      if (!target) throw new Error(`unresolved $ref ${cur.$ref}`);
      cur = target;
    }
    return cur;
  };
  const routes: Route[] = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      if (!METHODS.includes(method)) continue;
      const content = op.requestBody?.content ?? {};
      const contentType = Object.keys(content)[0];
      routes.push({
        method: method.toUpperCase(),
        path,
        params: (op.parameters ?? []).map((p) => ({ ...p, required: p.required ?? p.in === "path" })),
        body: contentType ? { contentType, schema: content[contentType]!.schema, required: op.requestBody?.required ?? false } : undefined,
        secured: (op.security?.length ?? 0) > 0,
        htmlErrors: op.responses?.["400"]?.content?.["text/html"] !== undefined,
      });
    }
  }
  return { routes, resolve };
}

// ---------- values derived from schemas ----------

const LONG = 40;

/** Any UTF-16 text, lone surrogates included (fast-check's "binary" unit builds a slow reverse mapping on shrink). */
export const anyText = (maxLength: number) =>
  fc.oneof(
    fc.string({ maxLength }),
    fc.string({ maxLength, unit: "grapheme" }),
    fc.string({ maxLength, unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  );

/** `^[class]*$`, `^[class]+$` or `^[class]{a,b}$`: the class's characters and the repetition bounds. */
function simplePattern(pattern: string): { chars: string[]; min: number; max: number } | null {
  const m = /^\^\[([^\]]+)\](\*|\+|\{(\d+),(\d+)\})\$$/.exec(pattern);
  if (!m) return null;
  const chars: string[] = [];
  const cls = m[1]!;
  for (let i = 0; i < cls.length; i++) {
    if (cls[i + 1] === "-" && i + 2 < cls.length) {
      for (let c = cls.charCodeAt(i); c <= cls.charCodeAt(i + 2); c++) chars.push(String.fromCharCode(c));
      i += 2;
    } else if (cls[i] !== "\\") chars.push(cls[i]!);
  }
  const [min, max] = m[2] === "*" ? [0, Infinity] : m[2] === "+" ? [1, Infinity] : [Number(m[3]), Number(m[4])];
  return { chars, min, max };
}

function stringFor(s: Schema, name: string): fc.Arbitrary<string> {
  const min = s.minLength ?? 0;
  const max = Math.min(s.maxLength ?? LONG, LONG);
  if (s.pattern) {
    const simple = simplePattern(s.pattern);
    if (simple) {
      const lo = Math.max(min, simple.min);
      return fc.string({ unit: fc.constantFrom(...simple.chars), minLength: lo, maxLength: Math.max(lo, Math.min(max, simple.max)) });
    }
    return fc.stringMatching(new RegExp(s.pattern)).map((v) => v.slice(0, Math.max(max, min)));
  }
  if (/identifier|address|email/i.test(name)) {
    return fc.oneof(
      fc.emailAddress().filter((e) => e.length <= max && e.length >= min),
      fc.string({ minLength: Math.max(min, 1), maxLength: max }),
    );
  }
  if (/password/i.test(name)) return fc.string({ minLength: Math.max(min, 8), maxLength: Math.max(max, 8) });
  if (/code/i.test(name)) return fc.oneof(fc.stringMatching(/^[0-9]{6,10}$/), fc.string({ minLength: min, maxLength: max }));
  if (/origin/i.test(name)) {
    // Not fc.webUrl: building its path arbitrary costs seconds inside workerd.
    const origin = fc
      .tuple(
        fc.constantFrom("https", "http"),
        fc.oneof(fc.domain(), fc.constant("localhost")),
        fc.option(fc.integer({ min: 1, max: 65535 })),
      )
      .map(([scheme, host, port]) => `${scheme}://${host}${port === null ? "" : `:${port}`}`);
    return fc.oneof(origin, fc.constant("http://localhost:8787"));
  }
  if (/relying_party_id/i.test(name)) return fc.oneof(fc.domain(), fc.constant("localhost"), fc.constant(""));
  if (/scope/i.test(name))
    return fc.subarray(["openid", "profile", "view_ss_profile", "manage_ss_profile", "identity"]).map((a) => a.join(" "));
  return fc.string({ minLength: min, maxLength: Math.max(max, min) });
}

/** A value that (mostly) satisfies the schema: the starting point of every mutation. */
export function valueFor(api: Api, schema: Schema, name = "", depth = 0): fc.Arbitrary<unknown> {
  const s = api.resolve(schema);
  if (s.allOf?.length) return valueFor(api, Object.assign({}, ...s.allOf.map(api.resolve)) as Schema, name, depth);
  const alts = s.anyOf ?? s.oneOf;
  if (alts?.length) return fc.oneof(...alts.map((a) => valueFor(api, a, name, depth)));
  if (s.enum?.length) return fc.constantFrom(...s.enum);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : s.properties ? ["object"] : [];
  if (types.length === 0) return fc.jsonValue({ maxDepth: 1 });
  return fc.oneof(
    ...types.map((t): fc.Arbitrary<unknown> => {
      switch (t) {
        case "string":
          return stringFor(s, name);
        case "integer":
          return fc.integer({ min: s.minimum ?? -5, max: s.maximum ?? 2000 });
        case "number":
          return fc.double({ min: s.minimum ?? -5, max: s.maximum ?? 2000, noNaN: true });
        case "boolean":
          return fc.boolean();
        case "null":
          return fc.constant(null);
        case "array": {
          if (depth > 4 || !s.items) return fc.constant([]);
          const min = s.minItems ?? 0;
          return fc.array(valueFor(api, s.items, name, depth + 1), {
            minLength: min,
            maxLength: Math.max(min, Math.min(s.maxItems ?? 3, 3)),
          });
        }
        case "object": {
          if (depth > 4) return fc.constant({});
          const props = Object.fromEntries(Object.entries(s.properties ?? {}).map(([k, v]) => [k, valueFor(api, v, k, depth + 1)]));
          const rec = fc.record(props, { requiredKeys: (s.required ?? []).filter((k) => k in props) });
          if (s.additionalProperties && typeof s.additionalProperties === "object" && !s.properties) {
            return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
          }
          return rec;
        }
        default:
          return fc.constant(null);
      }
    }),
  );
}

// ---------- hostile values ----------

/** Strings that have broken parsers, SQL, paths and Unicode handling elsewhere. */
export const EVIL_STRINGS: string[] = [
  "",
  " ",
  "\t\n",
  "\0",
  "a\0b",
  "\u202e\u2066evil",
  "\ufeff",
  "\ud800",
  "\udfff",
  "x\ud83dy",
  "\ud83d\ude00",
  "e\u0301",
  "\u00e9",
  "İ",
  "ß",
  "\u3000",
  "𝕏".repeat(50),
  "' OR '1'='1",
  "'; DROP TABLE users; --",
  '" OR ""="',
  "1; SELECT * FROM credentials",
  "%",
  "_",
  "\\",
  "\\\\'",
  "NULL",
  "null",
  "undefined",
  "../../etc/passwd",
  "..%2f..%2fetc%2fpasswd",
  "%2e%2e%2f",
  "..\\..\\",
  "/./././",
  "%00",
  "%ff",
  "%",
  "%zz",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "<script>alert(1)</script>",
  "$\u007b7*7}", // a template-injection probe: "${7*7}"
  "{{7*7}}",
  "javascript:alert(1)",
  "http://evil.example",
  "https://localhost:8787",
  "9".repeat(400),
  "-1",
  "1e309",
  "NaN",
  "Infinity",
  "0x10",
  "true",
  "[]",
  "{}",
  "a".repeat(1500),
  "é".repeat(3000),
  "A".repeat(60_000),
  "A".repeat(70_000),
];

const wrongTypeValues: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  2 ** 53 + 1,
  -1e308,
  "",
  "x",
  [],
  {},
  [null],
  { a: { b: { c: [] } } },
  [[[[[]]]]],
];

/** A JSON value with a hole: paths to every node, for mutations at a random place. */
function nodes(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) for (const [i, x] of v.entries()) nodes(x, [...at, i], out);
  else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) nodes(x, [...at, k], out);
  return out;
}

function setAt(v: unknown, path: (string | number)[], f: (old: unknown) => unknown): unknown {
  if (path.length === 0) return f(v);
  const [head, ...rest] = path;
  if (Array.isArray(v)) return v.map((x, i) => (i === head ? setAt(x, rest, f) : x));
  if (v && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = k === head ? setAt(x, rest, f) : x;
    return out;
  }
  return v;
}

const DROP = Symbol("drop");
function dropAt(v: unknown, path: (string | number)[]): unknown {
  const cleaned = setAt(v, path, () => DROP);
  const strip = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.filter((y) => y !== DROP).map(strip);
    if (x && typeof x === "object")
      return Object.fromEntries(
        Object.entries(x)
          .filter(([, y]) => y !== DROP)
          .map(([k, y]) => [k, strip(y)]),
      );
    return x;
  };
  return strip(cleaned);
}

export interface Body {
  /** What was sent, for failure messages. */
  label: string;
  raw: string | Uint8Array | undefined;
}

/** Inserts `"key": value` as the first member of the top-level object of a JSON text (no-op for non-objects). */
function withLeadingMember(text: string, key: string, value: unknown): string {
  if (!text.startsWith("{")) return text;
  const member = `${JSON.stringify(key)}:${JSON.stringify(value) ?? "null"}`;
  return text === "{}" ? `{${member}}` : `{${member},${text.slice(1)}`;
}

/**
 * Bodies for a route: valid-ish (derived from its schema), then mutated at the value level (wrong type, dropped
 * field, extra or prototype key, hostile string) or at the text level (duplicate keys, __proto__ literal,
 * truncation, trailing garbage, deep nesting, invalid UTF-8), or replaced by arbitrary JSON or text.
 */
export function bodyFor(api: Api, schema: Schema | undefined): fc.Arbitrary<Body> {
  const base = schema ? valueFor(api, schema) : fc.jsonValue({ maxDepth: 2 });
  const json =
    (label: string) =>
    (v: unknown): Body => ({ label: `${label} ${short(JSON.stringify(v))}`, raw: JSON.stringify(v) });
  const pick = <T>(v: unknown, f: (paths: (string | number)[][]) => fc.Arbitrary<T>) => f(nodes(v));

  const valid = base.map(json("valid-ish"));
  const wrongType = base.chain((v) =>
    pick(v, (ps) =>
      fc
        .tuple(fc.constantFrom(...ps), fc.constantFrom(...wrongTypeValues))
        .map(([p, w]) => json(`wrong type at ${p.join(".")}:`)(setAt(v, p, () => w))),
    ),
  );
  const dropped = base.chain((v) =>
    pick(v, (ps) =>
      fc
        .constantFrom(...ps.filter((p) => p.length > 0).concat([[]]))
        .map((p) => (p.length ? json(`without ${p.join(".")}:`)(dropAt(v, p)) : json("valid-ish")(v))),
    ),
  );
  const evil = base.chain((v) =>
    pick(v, (ps) =>
      fc.tuple(fc.constantFrom(...ps), fc.constantFrom(...EVIL_STRINGS)).map(([p, e]) => ({
        ...json(`evil string at ${p.join(".")}:`)(setAt(v, p, () => e)),
        label: `evil string ${short(JSON.stringify(e))} at ${p.join(".")}`,
      })),
    ),
  );
  const extraKey = fc
    .tuple(
      base,
      fc.constantFrom("__proto__", "constructor", "prototype", "toString", "hasOwnProperty", "isAdmin", "tenant_id", "id"),
      fc.constantFrom<unknown>({ isAdmin: true, polluted: 1 }, null, "x", 1, { prototype: { polluted: 1 } }),
    )
    .map(([v, k, x]): Body => {
      const text = withLeadingMember(JSON.stringify(v), k, x);
      return { label: `extra key ${k}: ${short(text)}`, raw: text };
    });
  const duplicate = base.chain((v) => {
    const keys = v && typeof v === "object" && !Array.isArray(v) ? Object.keys(v) : [];
    if (keys.length === 0) return fc.constant<Body>({ label: "valid-ish", raw: JSON.stringify(v) });
    return fc.tuple(fc.constantFrom(...keys), fc.constantFrom(...wrongTypeValues, ...EVIL_STRINGS.slice(0, 20))).map(([k, x]): Body => {
      const text = withLeadingMember(JSON.stringify(v), k, x);
      return { label: `duplicate key ${k}: ${short(text)}`, raw: text };
    });
  });
  const textLevel = fc
    .tuple(
      base,
      fc.nat(),
      fc.constantFrom("truncate", "trailing", "bom", "deep", "lone-surrogate-escape", "number-edge", "invalid-utf8", "nul"),
    )
    .map(([v, n, kind]): Body => {
      const text = JSON.stringify(v) ?? "null";
      switch (kind) {
        case "truncate":
          return { label: "truncated JSON", raw: text.slice(0, n % Math.max(text.length, 1)) };
        case "trailing":
          return { label: "trailing garbage", raw: `${text} ,}{"x"` };
        case "bom":
          return { label: "BOM before JSON", raw: `\ufeff${text}` };
        case "deep":
          return { label: "deep nesting", raw: `${"[".repeat(5000 + (n % 5000))}${"]".repeat(5000 + (n % 5000))}` };
        case "lone-surrogate-escape":
          return { label: "lone surrogate escapes", raw: text.replace(/"([^"\\]*)"/, '"\\ud800$1\\udfff"') };
        case "number-edge":
          return {
            label: "number edge cases",
            raw: withLeadingMember(text, "n", 0).replace(/"n":0/, '"n":1e999,"m":-0,"k":123456789012345678901234567890'),
          };
        case "invalid-utf8": {
          const bytes = new TextEncoder().encode(text);
          const out = new Uint8Array(bytes.length + 2);
          out.set(bytes.subarray(0, Math.min(bytes.length, 1 + (n % Math.max(bytes.length, 1)))));
          out.set([0xc3, 0x28], Math.min(bytes.length, 1 + (n % Math.max(bytes.length, 1))));
          out.set(
            bytes.subarray(Math.min(bytes.length, 1 + (n % Math.max(bytes.length, 1)))),
            Math.min(bytes.length, 1 + (n % Math.max(bytes.length, 1))) + 2,
          );
          return { label: "invalid UTF-8", raw: out };
        }
        default:
          return { label: "NUL in JSON", raw: text.replace(/"/, '"\u0000') };
      }
    });
  const arbitraryJson = fc.jsonValue({ maxDepth: 3 }).map(json("arbitrary JSON"));
  const arbitraryText = anyText(200).map((t): Body => ({ label: `arbitrary text ${short(t)}`, raw: t }));
  const none = fc.constant<Body>({ label: "no body", raw: undefined });
  return fc.oneof(
    { arbitrary: valid, weight: 6 },
    { arbitrary: wrongType, weight: 3 },
    { arbitrary: dropped, weight: 2 },
    { arbitrary: evil, weight: 3 },
    { arbitrary: extraKey, weight: 2 },
    { arbitrary: duplicate, weight: 2 },
    { arbitrary: textLevel, weight: 2 },
    { arbitrary: arbitraryJson, weight: 1 },
    { arbitrary: arbitraryText, weight: 1 },
    { arbitrary: none, weight: 1 },
  );
}

export const short = (s: string | undefined, n = 120) =>
  s === undefined ? "undefined" : s.length > n ? `${s.slice(0, n)}…(${s.length})` : s;

/** Path segment values: a real one (given), schema-valid random ones, and hostile ones (raw or percent-encoded). */
export function pathValueFor(real: string[], schema: Schema): fc.Arbitrary<{ label: string; segment: string }> {
  const enc = (v: string) => {
    try {
      return encodeURIComponent(v);
    } catch {
      return encodeURIComponent(v.replace(/[\ud800-\udfff]/g, "\ufffd"));
    }
  };
  const realArb = real.length
    ? fc.constantFrom(...real).map((v) => ({ label: v, segment: enc(v) }))
    : fc.constant({ label: "x", segment: "x" });
  const random = stringFor({ ...schema, minLength: Math.max(schema.minLength ?? 1, 1) }, "").map((v) => ({
    label: short(v, 40),
    segment: enc(v) || "x",
  }));
  const hostileRaw = fc
    .constantFrom(
      "..%2f..%2f",
      "%2e%2e",
      "..",
      ".",
      "%2F",
      "a%00b",
      "%ff",
      "%25",
      "%",
      "%zz",
      "a;b",
      "a?b=c",
      "a#b",
      "%20",
      "+",
      "~",
      "a".repeat(65),
      "A".repeat(5000),
      "%F0%9F%98%80",
      "%C3%A9",
      "%ED%A0%80",
    )
    .map((v) => ({ label: `raw ${short(v, 40)}`, segment: v }));
  const hostileEncoded = fc
    .constantFrom(...EVIL_STRINGS.filter((s) => s.length < 10_000 && s.length > 0))
    .map((v) => ({ label: `encoded ${short(v, 40)}`, segment: enc(v) }));
  return fc.oneof(
    { arbitrary: realArb, weight: 6 },
    { arbitrary: random, weight: 2 },
    { arbitrary: hostileRaw, weight: 1 },
    { arbitrary: hostileEncoded, weight: 1 },
  );
}

/** Content types: the route's own, its variants, and wrong ones. */
export function contentTypeFor(own: string | undefined): fc.Arbitrary<string | undefined> {
  const right = own ?? "application/json";
  return fc.oneof(
    { arbitrary: fc.constantFrom(right, `${right}; charset=utf-8`), weight: 8 },
    {
      arbitrary: fc.constantFrom<string | undefined>(
        undefined,
        "",
        right.toUpperCase(),
        `${right};charset=UTF-8`,
        `${right} ; charset=latin1`,
        "application/vnd.api+json",
        "application/json-patch+json",
        "text/plain",
        "text/json",
        "application/x-www-form-urlencoded",
        "application/json",
        "multipart/form-data; boundary=x",
        "application/xml",
        "application/json, text/plain",
        "application/jsonx",
        "*/*",
        "application/json\u00e9".replace(/[^\x20-\x7e]/g, "?"),
        "a".repeat(3000),
      ),
      weight: 2,
    },
  );
}

// ---------- D1 digest ----------

/** Tables of the database, without D1's and SQLite's own (and without the `exclude` list). */
export async function userTables(d1: D1Database = env.DB, exclude: string[] = []): Promise<string[]> {
  const rows = await d1
    .prepare(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' AND name NOT LIKE 'd1\\_%' ESCAPE '\\' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name",
    )
    .all<{ name: string }>();
  return rows.results.map((r) => r.name).filter((n) => !exclude.includes(n));
}

/** Every row of every given table (rowid order), one batch; `ignore` drops columns that may legitimately change. */
export async function tableRows(
  tables: string[],
  ignore: Record<string, string[]> = {},
  d1: D1Database = env.DB,
): Promise<Record<string, string[]>> {
  const results = await d1.batch(tables.map((t) => d1.prepare(`SELECT * FROM "${t}" ORDER BY rowid`)));
  const out: Record<string, string[]> = {};
  tables.forEach((t, i) => {
    const drop = ignore[t] ?? [];
    out[t] = (results[i]!.results as Record<string, unknown>[]).map((r) =>
      JSON.stringify(drop.length ? Object.fromEntries(Object.entries(r).filter(([k]) => !drop.includes(k))) : r),
    );
  });
  return out;
}

/** SHA-256 of each table's rows: compact to compare, and a mismatch names the table. */
export async function digest(
  tables: string[],
  ignore: Record<string, string[]> = {},
  d1: D1Database = env.DB,
): Promise<Record<string, string>> {
  const rows = await tableRows(tables, ignore, d1);
  const out: Record<string, string> = {};
  for (const [t, list] of Object.entries(rows)) {
    const h = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(list.join("\n"))));
    out[t] = `${list.length}:${[...h.subarray(0, 8)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
  }
  return out;
}
