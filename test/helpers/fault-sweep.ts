/**
 * The storage-fault sweep of test/faults-enrollment.test.ts and test/faults-signin.test.ts (what it checks: the
 * comment at the top of those files): direct calls of the Worker with chosen bindings, the scenario shape, and the
 * sweep over every fault point of a scenario. The bindings wrapper itself is test/helpers/faults.ts.
 */
import type { PublicKeyCredentialCreationOptionsJSON, PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { expect, vi } from "vitest";
import { SoftAuthenticator } from "../authenticator";
import { ORIGIN, systemToken, uid } from "./api";
import { FaultPlan, faultyEnv, type FaultMode, type StorageCall } from "./faults";
import { dispatch, tableRows } from "./fuzz";

const WATCHED = ["credentials", "consumed_challenges", "one_time_codes", "audit_events"];

/** The error handler logs every 5xx; the injected faults would print ~150 stack traces. Other errors still print. */
export function quietInjectedFaults(): void {
  const error = console.error.bind(console);
  vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
    if (
      args[0] === "unhandled error" &&
      /Network connection lost|503 Service Unavailable/.test(String(args[1]) + String((args[1] as Error | undefined)?.cause))
    )
      return;
    error(...args);
  });
}

// ---------- direct calls ----------

interface Call {
  token?: string;
  body?: unknown;
  form?: Record<string, string>;
  headers?: Record<string, string>;
}

export async function send(bindings: Cloudflare.Env, method: string, path: string, c: Call = {}): Promise<Response> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  let body: string | undefined;
  if (c.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(c.body);
  } else if (c.form) {
    headers["content-type"] = "application/x-www-form-urlencoded";
    body = new URLSearchParams(c.form).toString();
  }
  return dispatch(new Request(`${ORIGIN}${path}`, { method, headers, body }), bindings);
}

export async function ok<T>(res: Response, status = 200): Promise<T> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  return (text ? JSON.parse(text) : undefined) as T;
}

export const sysPath = (p: string) => `/api/identity/default/system${p}`;
export const PASSWORD = "correct horse battery staple";

export async function newUser(pool = "default", password = false): Promise<{ id: string; email: string }> {
  const email = `${uid("f")}@example.com`;
  const u = await ok<{ id: string }>(
    await send(env, "POST", sysPath(`/pools/${pool}/users`), {
      token: await systemToken(),
      body: {
        identifiers: [{ identifier: email, type: "email" }],
        verifiable_addresses: [{ address: email, type: "email", verified: true }],
        ...(password ? { credentials: [{ type: "password", password: PASSWORD }] } : {}),
      },
    }),
    201,
  );
  return { id: u.id, email };
}

const seg = (mode: "smart" | "classic") => (mode === "smart" ? "usernameless-webauthn" : "webauthn");
export const beginPath = (pool: string, userId: string, mode: "smart" | "classic") =>
  sysPath(`/pools/${pool}/users/${userId}/${seg(mode)}/create/begin`);
export const completePath = (pool: string, userId: string, mode: "smart" | "classic") =>
  sysPath(`/pools/${pool}/users/${userId}/${seg(mode)}/create/complete`);

export async function enrolled(pool: string, mode: "smart" | "classic") {
  const user = await newUser(pool);
  const auth = new SoftAuthenticator();
  const { publicKey } = await ok<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>(
    await send(env, "POST", beginPath(pool, user.id, mode), { token: await systemToken() }),
  );
  await ok(
    await send(env, "POST", completePath(pool, user.id, mode), {
      token: await systemToken(),
      body: await auth.register(publicKey, { origin: ORIGIN }),
    }),
  );
  return { user, auth };
}

/** The newest development-outbox code for an address (the messenger of ENVIRONMENT=development). */
export async function codeFor(address: string): Promise<string> {
  const row = await env.DB.prepare('SELECT code FROM outbox WHERE "to" = ? ORDER BY created_at DESC, rowid DESC LIMIT 1')
    .bind(address)
    .first<{ code: string }>();
  expect(row, `a code was sent to ${address}`).not.toBeNull();
  return row!.code;
}

export type SigninOptions = { login_id: string; publicKey: PublicKeyCredentialRequestOptionsJSON };

export async function signIn(bindings: Cloudflare.Env, wid: string, auth: SoftAuthenticator, identifier?: string): Promise<Response> {
  const o = await ok<SigninOptions>(
    await send(bindings, "POST", `/default/${wid}/login/webauthn/options`, { body: identifier ? { identifier } : {} }),
  );
  return send(bindings, "POST", `/default/${wid}/login/webauthn/finish`, {
    body: { login_id: o.login_id, credential: await auth.authenticate(o.publicKey, { origin: ORIGIN }) },
  });
}

// ---------- scenarios ----------

export interface Scenario<C> {
  name: string;
  /** Everything before the step, with clean bindings. */
  prepare(): Promise<C>;
  /** The step under fault. */
  step(c: C, bindings: Cloudflare.Env): Promise<Response>;
  success: number;
  /** After a successful step: what must exist (e.g. the consumed challenge of a new credential or of a token). */
  committed?(c: C, res: unknown): Promise<void>;
  /** The whole ceremony again from the start, with clean bindings; asserts success. */
  retry(c: C): Promise<void>;
  /** Calls after the commit whose failure the step may swallow (success acceptable). */
  bestEffort?: (call: StorageCall) => boolean;
  /** Documented partial states (table deltas) other than none/complete, and why. */
  allowedPartial?: { effect: Effect; why: string }[];
  /** Tables watched besides WATCHED (e.g. users and signups for sign-up, the oidc_* tables for OIDC). */
  watch?: string[];
}

type Effect = Record<string, string>;

/** Per table, how many rows were removed and added (a changed row is one of each). */
function effectOf(before: Record<string, string[]>, after: Record<string, string[]>): Effect {
  const out: Effect = {};
  for (const t of Object.keys(before)) {
    const b = new Set(before[t]);
    const a = new Set(after[t]);
    const removed = [...b].filter((r) => !a.has(r)).length;
    const added = [...a].filter((r) => !b.has(r)).length;
    if (removed || added) out[t] = `-${removed}+${added}`;
  }
  return out;
}

export const consumed = async (challenge: string) =>
  (await env.DB.prepare("SELECT count(*) AS n FROM consumed_challenges WHERE challenge = ?").bind(challenge).first<{ n: number }>())!.n;
export const challengeOf = (response: { response: { clientDataJSON: string } }) =>
  (JSON.parse(atob(response.response.clientDataJSON.replace(/-/g, "+").replace(/_/g, "/"))) as { challenge: string }).challenge;

/**
 * A sweep and its counts, for one test file: `report(label)` prints "<label>: N fault points, ..." (the numbers the
 * suite reports) and the documented partial states met.
 */
export function faultSweep() {
  const stats = { points: 0, injected: 0, fiveHundreds: 0, status503: 0, bestEffortSuccess: 0, documentedPartial: 0 };
  const partials = new Set<string>();

  async function sweep<C>(s: Scenario<C>): Promise<string[]> {
    const problems: string[] = [];
    const rows = () => tableRows([...WATCHED, ...(s.watch ?? [])]);
    // Clean run: count the calls and learn the complete effect.
    const c0 = await s.prepare();
    const clean = new FaultPlan();
    const before0 = await rows();
    const res0 = await s.step(c0, faultyEnv(env, clean));
    const text0 = await res0.text();
    expect(res0.status, `${s.name}, clean run: ${text0}`).toBe(s.success);
    const complete = effectOf(before0, await rows());
    if (s.committed) await s.committed(c0, text0 ? JSON.parse(text0) : undefined);
    const n = clean.calls.length;
    expect(n, `${s.name} makes storage calls`).toBeGreaterThan(0);

    for (const mode of ["before", "after"] as FaultMode[]) {
      for (let k = 0; k < n; k++) {
        stats.points++;
        const c = await s.prepare();
        const plan = FaultPlan.at(k, mode);
        const before = await rows();
        const res = await s.step(c, faultyEnv(env, plan));
        const text = await res.text();
        const effect = effectOf(before, await rows());
        const at = `${s.name}: fault ${mode} call ${k}/${n} ${plan.injected[0] ? `${plan.injected[0].kind}.${plan.injected[0].op} ${plan.injected[0].detail.slice(0, 70).replace(/\s+/g, " ")}` : "(not reached)"}`;
        stats.injected += plan.injected.length;
        if (res.status >= 500 && res.status !== 503) stats.fiveHundreds++;

        const unchanged = Object.keys(effect).length === 0;
        const whole = JSON.stringify(effect) === JSON.stringify(complete);
        if (res.status === 503) {
          stats.status503++;
          if (res.headers.get("retry-after") === null) problems.push(`${at}: 503 without Retry-After`);
          if (!text.includes('"storage_unavailable"')) problems.push(`${at}: 503 ${text.slice(0, 120)}`);
        } else if (res.status === s.success) {
          if (plan.injected.length > 0) {
            stats.bestEffortSuccess++;
            if (!s.bestEffort?.(plan.injected[0]!))
              problems.push(`${at}: swallowed a fault that is not best-effort clean-up → ${res.status}`);
          }
          if (!whole)
            problems.push(`${at}: success without the complete effect ${JSON.stringify(effect)} (clean run: ${JSON.stringify(complete)})`);
          if (s.committed) await s.committed(c, text ? JSON.parse(text) : undefined);
        } else {
          problems.push(`${at}: answered ${res.status} ${text.slice(0, 160)}`);
        }
        const allowed = s.allowedPartial?.find((p) => JSON.stringify(effect) === JSON.stringify(p.effect));
        if (!unchanged && !whole && !allowed)
          problems.push(`${at}: partial effect ${JSON.stringify(effect)} (clean run: ${JSON.stringify(complete)}) → ${res.status}`);
        if (allowed && !whole) {
          stats.documentedPartial++;
          partials.add(`${s.name}: ${allowed.why}`);
        }
        await s.retry(c);
      }
    }
    return problems;
  }

  function report(label: string): void {
    console.log(
      `${label}: ${stats.points} fault points, ${stats.injected} faults injected, ${stats.status503} answers 503, ${stats.bestEffortSuccess} best-effort successes, ${stats.fiveHundreds} other 5xx, ${stats.documentedPartial} documented partial states`,
    );
    for (const p of partials) console.log(`${label}: documented partial state: ${p}`);
  }

  return { sweep, report };
}
