/**
 * Property-based fuzzing of every route of the served OpenAPI document (GET /openapi.json, read at test start, so
 * routes added later are fuzzed too). For each route, fast-check builds requests from the route's own schemas and
 * then breaks them: mutated and hostile bodies, content-type and Authorization variants (system, user, expired,
 * forged, alg-none, tampered and garbage tokens), hostile path and query values. Properties of every answer:
 *   1. never a 5xx;
 *   2. every non-2xx/3xx answer is the contract's error body {status_code, error, error_code, details} with
 *      status_code equal to the HTTP status, JSON and Cache-Control: no-store (the OpenID Provider's browser
 *      endpoints, whose documented 400 is text/html, may answer their HTML error page instead, also no-store);
 *   3. a rejected (4xx) request leaves D1 unchanged: a digest of every row of every table is compared before and
 *      after (sampled, see DIGEST_EVERY). Excluded, because a rejection legitimately writes them: audit_events
 *      (append-only; failures are audited), rate_counters (failures count against abuse limits), and the
 *      `attempts` column of one_time_codes (a wrong code counts an attempt).
 * `npm test` runs a fixed seed and a bounded number of runs; `npm run fuzz` (vitest.fuzz.config.ts) runs FUZZ_RUNS
 * per route with FUZZ_SEED (printed).
 */
import { env, SELF } from "cloudflare:test";
import fc from "fast-check";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signAccessToken } from "../src/crypto/jwt";
import { SoftAuthenticator } from "./authenticator";
import { basic, CLIENT, json, ORIGIN, systemToken, uid } from "./helpers/api";
import {
  bodyFor,
  contentTypeFor,
  digest,
  dispatch,
  fuzzSettings,
  quietRequestLog,
  pathValueFor,
  routesOf,
  short,
  userTables,
  valueFor,
  type Api,
  type Body,
  type OpenApiDoc,
  type Route,
} from "./helpers/fuzz";
import { enroll, newUser } from "./helpers/passkeys";
import { setup, userToken } from "./helpers/signin";

const settings = fuzzSettings();
/** Runs per route in `npm test`. */
const RUNS = settings.runs(25);
/** Digest D1 around every n-th rejected request (every one: affordable with direct dispatch). */
const DIGEST_EVERY = 1;

const EXCLUDED_TABLES = ["audit_events", "rate_counters"];
const IGNORED_COLUMNS = { one_time_codes: ["attempts"] };

const stats = { requests: 0, digests: 0, byStatus: new Map<number, number>(), serverErrors: 0 };

// ---------- the document, tokens and fixtures ----------

let api: Api;
let tables: string[];
const tokens: Record<string, string> = {};

const b64u = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const parts = (t: string) => t.split(".") as [string, string, string];

beforeAll(async () => {
  quietRequestLog();
  const res = await SELF.fetch(`${ORIGIN}/openapi.json`);
  api = routesOf(await json<OpenApiDoc>(res));
  tables = await userTables(env.DB, EXCLUDED_TABLES);

  tokens.system = await systemToken("default");
  tokens.other = await systemToken("other");
  const claims = { sub: CLIENT.id, tid: "default", scope: "identity", client_id: CLIENT.id };
  tokens.expired = await signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    `${ORIGIN}/default`,
    claims,
    60,
    Date.now() - 2 * 3600_000,
  );
  tokens.wrongIssuer = await signAccessToken(
    { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET },
    "https://evil.example/default",
    claims,
    600,
    Date.now(),
  );
  const [h, p] = parts(tokens.system);
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const kid = (JSON.parse(atob(h.replace(/-/g, "+").replace(/_/g, "/"))) as { kid: string }).kid;
  tokens.forged = await new SignJWT(JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>)
    .setProtectedHeader({ alg: "ES256", kid, typ: "at+jwt" })
    .sign(privateKey);
  tokens.foreignKey = await new SignJWT({ ...claims, iss: `${ORIGIN}/default` })
    .setProtectedHeader({ alg: "ES256", kid: "nope", typ: "at+jwt" })
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);
  tokens.algNone = `${b64u(JSON.stringify({ alg: "none", kid, typ: "at+jwt" }))}.${p}.`;
  tokens.hs256 = `${b64u(JSON.stringify({ alg: "HS256", kid }))}.${p}.${b64u(JSON.stringify(await exportJWK(publicKey)))}`;
  const payload = JSON.parse(atob(p.replace(/-/g, "+").replace(/_/g, "/"))) as Record<string, unknown>;
  tokens.tampered = `${h}.${b64u(JSON.stringify({ ...payload, tid: "other" }))}.${parts(tokens.system)[2]}`;
});

interface Fixture {
  /** A tenant of its own, for routes that delete a tenant. */
  tenant: string;
  wid: string;
  pool: string;
  userId: string;
  credentialEntry: string;
  credentialId: string;
  user: string;
  viewer: string;
  stale: string;
}

/** A pool, a workspace over it, a user with one passkey, and user tokens (full, view-only, and a stale sign-in). */
async function fixture(mode: "smart" | "classic"): Promise<Fixture> {
  const { pool, wid } = await setup(mode);
  const user = await newUser(pool);
  const { credentials } = await enroll(new SoftAuthenticator(), pool, user.id, mode);
  const t = { wid, pool, userId: user.id };
  const tenant = uid("fzt");
  await env.DB.prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, 'fuzz', 0)").bind(tenant).run();
  return {
    tenant,
    wid,
    pool,
    userId: user.id,
    credentialEntry: credentials[0]!.id,
    credentialId: credentials[0]!.payload.credential_id,
    user: await userToken(t),
    viewer: await userToken(t, { scope: "view_ss_profile" }),
    stale: await userToken(t, { ago: 3600 }),
  };
}

// ---------- requests ----------

interface Plan {
  path: { label: string; url: string };
  auth: { label: string; value: string | undefined };
  contentType: string | undefined;
  body: Body;
}

function realValues(route: Route, name: string, fx: Fixture): string[] {
  const last = [...route.path.matchAll(/\{(\w+)\}/g)].at(-1)?.[1];
  // A DELETE names its object by its last parameter: give it one it may destroy.
  if (route.method === "DELETE" && name === last && name === "tid") return [fx.tenant];
  switch (name) {
    case "tid":
      return ["default", "default", "default", "other"];
    case "wid":
      return [fx.wid];
    case "ipID":
      return [fx.pool];
    case "userID":
      return [fx.userId];
    case "credentialID":
      return [fx.credentialEntry, fx.credentialId];
    default:
      return [];
  }
}

function pathFor(route: Route, fx: Fixture): fc.Arbitrary<{ label: string; url: string }> {
  const pathParams = route.params.filter((p) => p.in === "path");
  const queryParams = route.params.filter((p) => p.in === "query");
  const segs = fc.tuple(...pathParams.map((p) => pathValueFor(realValues(route, p.name, fx), api.resolve(p.schema))));
  const query = fc.tuple(
    ...queryParams.map((p) =>
      fc.option(
        fc.oneof(
          valueFor(api, p.schema).map((v) => encodeURIComponent(String(v))),
          fc.constantFrom("-1", "0", "1e3", "99999999999999999999", "abc", "", "%00", "1%20OR%201=1", "NaN", "null"),
        ),
        { nil: undefined },
      ),
    ),
  );
  return fc.tuple(segs, query).map(([values, qs]) => {
    let path = route.path;
    pathParams.forEach((p, i) => {
      path = path.replace(`{${p.name}}`, values[i]!.segment);
    });
    const q = queryParams
      .map((p, i) => (qs[i] === undefined ? "" : `${p.name}=${qs[i]}`))
      .filter(Boolean)
      .join("&");
    return { label: `${path.length > 200 ? short(path, 200) : path}${q ? `?${q}` : ""}`, url: `${ORIGIN}${path}${q ? `?${q}` : ""}` };
  });
}

function authFor(route: Route, fx: Fixture): fc.Arbitrary<{ label: string; value: string | undefined }> {
  const bearer = (name: string, t: string) => ({ label: name, value: `Bearer ${t}` });
  const right = route.path.startsWith("/api/")
    ? bearer("system token", tokens.system!)
    : route.secured
      ? bearer("user token", fx.user)
      : { label: "none", value: undefined };
  const variants = [
    { label: "none", value: undefined },
    bearer("system token", tokens.system!),
    bearer("user token", fx.user),
    bearer("view-only user token", fx.viewer),
    bearer("stale sign-in token", fx.stale),
    bearer("other tenant's system token", tokens.other!),
    bearer("expired token", tokens.expired!),
    bearer("token of another issuer", tokens.wrongIssuer!),
    bearer("forged signature", tokens.forged!),
    bearer("unknown kid", tokens.foreignKey!),
    bearer("alg none", tokens.algNone!),
    bearer("HS256 with the public key", tokens.hs256!),
    bearer("tampered payload", tokens.tampered!),
    bearer("three dots", "a.b.c"),
    bearer("oversized", "A".repeat(8000)),
    { label: "lower-case scheme", value: `bearer ${tokens.system}` },
    { label: "two spaces", value: `Bearer  ${tokens.system} ` },
    { label: "two tokens", value: `Bearer ${tokens.system}, Bearer ${fx.user}` },
    { label: "Token scheme", value: `Token ${tokens.system}` },
    { label: "bare token", value: tokens.system },
    { label: "Bearer only", value: "Bearer" },
    { label: "Bearer space", value: "Bearer " },
    { label: "Basic client", value: basic(CLIENT.id, CLIENT.secret) },
    { label: "Basic wrong secret", value: basic(CLIENT.id, "wrong") },
    { label: "Basic malformed", value: "Basic !!!" },
    { label: "Basic no colon", value: `Basic ${btoa("nocolon")}` },
    { label: "Basic unicode", value: `Basic ${btoa(unescape(encodeURIComponent("é:ü")))}` },
  ];
  const garbage = fc
    .string({ maxLength: 300 })
    .filter((s) => !/[^\x20-\x7e]/.test(s))
    .map((s) => ({ label: `garbage ${short(s, 40)}`, value: s }));
  return fc.oneof(
    { arbitrary: fc.constant(right), weight: 6 },
    { arbitrary: fc.constantFrom(...variants), weight: 3 },
    { arbitrary: garbage, weight: 1 },
  );
}

/** Form bodies (token endpoint): schema-derived fields, hostile values, duplicates, or raw text. */
function formBodyFor(route: Route): fc.Arbitrary<Body> {
  const fields = valueFor(api, route.body!.schema).map((v) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {}));
  const encode = (pairs: [string, unknown][]) =>
    pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v).replace(/[\ud800-\udfff]/g, "?"))}`).join("&");
  const good = fc.tuple(fields, fc.boolean()).map(([f, real]): Body => {
    const pairs = Object.entries(real ? { ...f, grant_type: "client_credentials", scope: "identity" } : f);
    return { label: `form ${short(encode(pairs))}`, raw: encode(pairs) };
  });
  const hostile = fc
    .tuple(
      fields,
      fc.constantFrom("grant_type", "scope", "client_id", "client_secret", "__proto__", "constructor"),
      bodyFor(api, undefined),
    )
    .map(([f, k, b]): Body => {
      const text = encode([[k, typeof b.raw === "string" ? b.raw : "x"], ...Object.entries(f), [k, "client_credentials"]]);
      return { label: `form with hostile/duplicate ${k}: ${short(text)}`, raw: text };
    });
  const raw = fc
    .oneof(
      fc.string({ maxLength: 200 }),
      fc.constantFrom("%", "a=%zz", "=&=&", "grant_type", "a=1&".repeat(5000), "x=".concat("é".repeat(40_000))),
    )
    .map((t): Body => ({ label: `raw form ${short(t)}`, raw: t }));
  return fc.oneof(
    { arbitrary: good, weight: 5 },
    { arbitrary: hostile, weight: 3 },
    { arbitrary: raw, weight: 2 },
    { arbitrary: bodyFor(api, undefined), weight: 1 },
  );
}

function planFor(route: Route, fx: Fixture): fc.Arbitrary<Plan> {
  const form = route.body?.contentType === "application/x-www-form-urlencoded";
  const body = form
    ? formBodyFor(route)
    : route.body
      ? bodyFor(api, route.body.schema)
      : fc.oneof(
          { arbitrary: fc.constant<Body>({ label: "no body", raw: undefined }), weight: 4 },
          { arbitrary: bodyFor(api, undefined), weight: 1 },
        );
  return fc.record({ path: pathFor(route, fx), auth: authFor(route, fx), contentType: contentTypeFor(route.body?.contentType), body });
}

const describePlan = (route: Route, p: Plan) =>
  `${route.method} ${p.path.label}\n  auth: ${p.auth.label}\n  content-type: ${short(p.contentType, 60)}\n  body: ${p.body.label}`;

let rejected = 0;

/** The contract's error body {status_code, error, error_code, details}, status_code the HTTP status. */
function expectErrorBody(route: Route, text: string, status: number, what: string): void {
  const body = JSON.parse(text) as Record<string, unknown>;
  // OAuth endpoints may add RFC 6749 `error_description` (api.md, OpenID Connect section); nothing else is extra.
  const extra = Object.keys(body).filter(
    (k) =>
      !["status_code", "error", "error_code", "details"].includes(k) && !(k === "error_description" && route.path.includes("/oauth2/")),
  );
  expect(extra, `${what}\n→ ${text}`).toEqual([]);
  expect(body.status_code, `${what}\n→ ${text}`).toBe(status);
  expect(typeof body.error, what).toBe("string");
  expect(body.error_code, what).toMatch(/^[a-z][a-z0-9_]*$/);
  expect(body.details !== null && typeof body.details === "object" && !Array.isArray(body.details), `${what}\n→ ${text}`).toBe(true);
}

async function send(route: Route, p: Plan): Promise<void> {
  const headers: Record<string, string> = {};
  if (p.auth.value !== undefined) headers.authorization = p.auth.value;
  if (p.contentType !== undefined && p.body.raw !== undefined) headers["content-type"] = p.contentType;
  const method = route.method;
  const raw = method === "GET" || method === "HEAD" ? undefined : p.body.raw;
  const what = describePlan(route, p);

  const check = rejected++ % DIGEST_EVERY === 0;
  const before = check ? await digest(tables, IGNORED_COLUMNS) : undefined;
  const res = await dispatch(new Request(p.path.url, { method, headers, body: raw, redirect: "manual" }));
  const text = await res.text();
  stats.requests++;
  stats.byStatus.set(res.status, (stats.byStatus.get(res.status) ?? 0) + 1);
  if (res.status >= 500) stats.serverErrors++;

  expect(res.status, `${what}\n→ ${res.status} ${short(text, 300)}`).toBeLessThan(500);
  if (res.status < 400) {
    if (check) rejected--; // only rejected requests take part in the digest sample
    return;
  }
  expect(res.headers.get("cache-control"), what).toBe("no-store");
  if (route.htmlErrors && /^text\/html/.test(res.headers.get("content-type") ?? "")) {
    expect(res.status, `${what}\n→ ${short(text, 300)}`).toBe(400);
    expect(text, what).toContain("request not valid");
  } else {
    expect(res.headers.get("content-type"), what).toMatch(/^application\/json/);
    expectErrorBody(route, text, res.status, what);
  }
  if (before) {
    stats.digests++;
    expect(
      await digest(tables, IGNORED_COLUMNS),
      `D1 changed by a rejected request:\n${what}\n→ ${res.status} ${short(text, 200)}`,
    ).toEqual(before);
  }
}

// ---------- the properties ----------

describe("fuzzing every route of /openapi.json", { timeout: settings.extended ? 3_600_000 : 120_000 }, () => {
  let shared: Fixture | undefined;

  it("reads the document: every route has a method, a path and parameters that fit its template", () => {
    expect(api.routes.length).toBeGreaterThan(10);
    for (const r of api.routes) {
      const names = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
      expect(
        r.params
          .filter((p) => p.in === "path")
          .map((p) => p.name)
          .sort(),
        `${r.method} ${r.path}`,
      ).toEqual([...names].sort());
    }
  });

  it("the digest notices a changed, added or removed row in any table, and ignores what it is told to", async () => {
    const before = await digest(tables, IGNORED_COLUMNS);
    const tenant = uid("fzd");
    await env.DB.prepare("INSERT INTO tenants (id, name, created_at) VALUES (?, 'x', 0)").bind(tenant).run();
    const added = await digest(tables, IGNORED_COLUMNS);
    expect(added.tenants).not.toBe(before.tenants);
    await env.DB.prepare("UPDATE tenants SET name = 'y' WHERE id = ?").bind(tenant).run();
    expect((await digest(tables, IGNORED_COLUMNS)).tenants).not.toBe(added.tenants);
    await env.DB.prepare("DELETE FROM tenants WHERE id = ?").bind(tenant).run();
    expect(await digest(tables, IGNORED_COLUMNS)).toEqual(before);
    expect(tables).toContain("credentials");
    expect(tables).not.toContain("audit_events");
  });

  it("every route, its schema-derived and mutated requests: no 5xx, the error shape, D1 unchanged when rejected", async () => {
    const seen: string[] = [];
    for (const [i, route] of api.routes.entries()) {
      // Routes that change or delete objects get their own fixture, so later routes still find theirs.
      const fx = route.method === "DELETE" || route.method === "PUT" || !shared ? await fixture(i % 2 ? "classic" : "smart") : shared;
      if (!shared) shared = fx;
      seen.push(`${route.method} ${route.path}`);
      await fc.assert(
        fc.asyncProperty(planFor(route, fx), (p) => send(route, p)),
        { numRuns: RUNS, seed: settings.seed + i, endOnFailure: true },
      );
    }
    console.log(`fuzz: ${seen.length} routes from /openapi.json`);
  });
});

afterAll(() => {
  vi.restoreAllMocks();
  const statuses = [...stats.byStatus.entries()]
    .sort(([a], [b]) => a - b)
    .map(([s, n]) => `${s}:${n}`)
    .join(" ");
  console.log(
    `fuzz: ${stats.requests} requests fuzzed (seed ${settings.seed}, ${RUNS} runs per route), ${stats.digests} D1 digests compared, ${stats.serverErrors} 5xx; statuses ${statuses}`,
  );
});
