/**
 * Abuse limits (contract "Abuse limits"): password failures per identifier, sign-in requests per client IP (Workers
 * Rate Limiting binding, enforced by miniflare in memory), one-time-code requests and wrong codes per user, client
 * authentication failures at the token endpoint. Windows passing are shown by calling the services with a later `now`.
 */
import { env } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { createClient } from "../src/services/clients";
import { reserve, readCounter } from "../src/repo/counters";
import { purgeExpired } from "../src/repo/maintenance";
import { counterKeys } from "../src/domain/limits";
import { createSystemToken } from "../src/services/system-token";
import { passwordSignin } from "../src/services/signin";
import { checkEnrollmentCode, createEnrollmentCode } from "../src/services/otp";
import { identifierKey } from "../src/services/users";
import { ApiError } from "../src/errors";
import { SoftAuthenticator } from "./authenticator";
import { basic, call, expectError, expectOAuthError, json, ORIGIN, requestToken, sys, uid, type ErrorBody } from "./helpers/api";
import { testCall, testWorkspaceCall } from "./helpers/call";
import { begin, count, enroll, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace, options, password, setup, type Tokens } from "./helpers/signin";

const PW = "correct horse battery";
const grant = { grant_type: "client_credentials", scope: "identity" };
type Message = { to: string; purpose: string; code: string };

/** 429 rate_limited in the contract's shape, with a Retry-After in (0, max] seconds. */
async function expectLimited(res: Response, limit: string, maxRetry: number, expectBody = expectError): Promise<ErrorBody> {
  const retry = Number(res.headers.get("retry-after"));
  const body = await expectBody(res, 429, "rate_limited");
  expect(body.details.limit).toBe(limit);
  expect(Number.isInteger(retry) && retry > 0 && retry <= maxRetry, `Retry-After ${retry}`).toBe(true);
  expect(body.details.retry_after).toBe(retry);
  return body;
}

/** The ApiError a service call throws (or null when it succeeds). */
async function thrown(p: Promise<unknown>): Promise<ApiError | null> {
  try {
    await p;
    return null;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
}

const statuses = (rs: Response[]) =>
  rs
    .map((r) => r.status)
    .sort()
    .join(",");
const counter = (key: string, tid = "default") => readCounter(env.DB, { tenantId: tid, key }, Date.now());

describe("password failures per identifier", () => {
  it("5 wrong passwords, then 429 for every attempt (also the right password) until the window passes; passkeys still work", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: PW }] });
    const auth = new SoftAuthenticator();
    await enroll(auth, pool, user.id, "classic");

    for (let i = 0; i < 5; i++)
      await expectError(await password(wid, { identifier: user.email, password: `wrong ${i}` }), 401, "authentication_failed");
    await expectLimited(await password(wid, { identifier: user.email, password: PW }), "password_failures", 900);
    // Case and surrounding spaces do not make a new identifier.
    await expectLimited(await password(wid, { identifier: ` ${user.email.toUpperCase()} `, password: PW }), "password_failures", 900);
    expect(await counter(counterKeys.password(identifierKey(user.email)))).toMatchObject({ count: 5, refused: 2 });
    // The first refusal of the window is audited once.
    expect(await count("audit_events", "user_id = ? AND type = 'rate_limited'", user.id)).toBe(1);

    // A passkey sign-in of the same user is not blocked.
    const opts = await options(wid, { identifier: user.email });
    const tokens = await json<Tokens>(await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: ORIGIN })));
    expect(tokens.token_type).toBe("Bearer");

    // 15 minutes later the window has passed: the right password signs in.
    const later = Date.now() + 15 * 60_000 + 1000;
    const res = await passwordSignin(testWorkspaceCall(wid, { now: later }), { identifier: user.email, password: PW });
    expect(res).toMatchObject({ token_type: "Bearer" });
  });

  it("a success does not count, and does not reset earlier failures", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: PW }] });
    for (let i = 0; i < 4; i++)
      await expectError(await password(wid, { identifier: user.email, password: "nope nope" }), 401, "authentication_failed");
    for (let i = 0; i < 3; i++) await json(await password(wid, { identifier: user.email, password: PW }));
    expect(await counter(counterKeys.password(identifierKey(user.email)))).toMatchObject({ count: 4, refused: 0 });
    await expectError(await password(wid, { identifier: user.email, password: "nope nope" }), 401, "authentication_failed");
    await expectLimited(await password(wid, { identifier: user.email, password: PW }), "password_failures", 900);
  });

  it("unknown identifiers lock exactly like known ones (no enumeration)", async () => {
    const { wid } = await setup("classic");
    const ghost = `ghost-${crypto.randomUUID()}@example.com`;
    for (let i = 0; i < 5; i++)
      await expectError(await password(wid, { identifier: ghost, password: "nope nope" }), 401, "authentication_failed");
    await expectLimited(await password(wid, { identifier: ghost, password: "nope nope" }), "password_failures", 900);
  });

  it("20 parallel wrong passwords: exactly 5 are checked (401), 15 are refused (429)", async () => {
    const { pool, wid } = await setup("classic");
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: PW }] });
    const rs = await Promise.all(Array.from({ length: 20 }, (_, i) => password(wid, { identifier: user.email, password: `wrong ${i}` })));
    expect(rs.filter((r) => r.status === 401)).toHaveLength(5);
    expect(rs.filter((r) => r.status === 429)).toHaveLength(15);
    expect(statuses(rs)).toBe([...Array(5).fill("401"), ...Array(15).fill("429")].join(","));
    expect(await counter(counterKeys.password(identifierKey(user.email)))).toMatchObject({ count: 5, refused: 15 });
    expect(await count("audit_events", "user_id = ? AND type = 'rate_limited'", user.id)).toBe(1);
  });

  it("in a workspace of two pools, a user of either pool and an unknown identifier lock after the same number of failures", async () => {
    const a = await newPool({ authentication_mechanisms: ["webauthn", "password"] });
    const b = await newPool({ authentication_mechanisms: ["webauthn", "password"], limits: { password_failures: 3 } });
    const wid = await newWorkspace(["webauthn", "password"], [a, b]);
    const inA = await newUser(a, "default", { credentials: [{ type: "password", password: PW }] });
    const inB = await newUser(b, "default", { credentials: [{ type: "password", password: PW }] });
    for (const identifier of [inA.email, inB.email, `${uid("ghost")}@example.com`]) {
      for (let i = 0; i < 3; i++)
        await expectError(await password(wid, { identifier, password: "nope nope" }), 401, "authentication_failed");
      await expectLimited(await password(wid, { identifier, password: PW }), "password_failures", 900);
    }
  });

  it("follows the pool's limits.password_failures", async () => {
    const { pool, wid } = await setup("classic", { limits: { password_failures: 2 } });
    const user = await newUser(pool, "default", { credentials: [{ type: "password", password: PW }] });
    for (let i = 0; i < 2; i++)
      await expectError(await password(wid, { identifier: user.email, password: "nope nope" }), 401, "authentication_failed");
    await expectLimited(await password(wid, { identifier: user.email, password: PW }), "password_failures", 900);
  });
});

describe("sign-in requests per client IP (rate limiting binding)", () => {
  const hex = () => Math.floor(Math.random() * 0x10000).toString(16);
  const ip = () => `2001:db8:${hex()}:${hex()}:${hex()}:${hex()}::1`;
  const opts = (wid: string, from?: string) =>
    call("POST", `/default/${wid}/login/webauthn/options`, { body: {}, headers: from ? { "cf-connecting-ip": from } : {} });

  it("60 per minute per IP, then 429 on options, finish and password; other IPs and requests without an IP are not affected", async () => {
    const { wid } = await setup("smart");
    // The binding counts in fixed one-minute windows; retry once when a run straddles a window boundary.
    let from = "";
    for (let attempt = 0; attempt < 2; attempt++) {
      from = ip();
      const minute = Math.floor(Date.now() / 60_000);
      const rs: Response[] = [];
      for (let i = 0; i < 61; i++) rs.push(await opts(wid, from));
      if (Math.floor(Date.now() / 60_000) !== minute) continue;
      expect(rs.slice(0, 60).every((r) => r.status === 200)).toBe(true);
      await expectLimited(rs[60]!, "signin_ip", 60);
      break;
    }
    const headers = { "cf-connecting-ip": from };
    await expectLimited(
      await call("POST", `/default/${wid}/login/password`, { body: { identifier: "x@example.com", password: "nope nope" }, headers }),
      "signin_ip",
      60,
    );
    await expectLimited(
      await call("POST", `/default/${wid}/login/webauthn/finish`, { body: { login_id: "x", credential: {} }, headers }),
      "signin_ip",
      60,
    );
    expect((await opts(wid, ip())).status).toBe(200);
    expect((await opts(wid)).status).toBe(200);
    // login/config is not a limited route.
    expect((await call("GET", `/default/${wid}/login/config`, { headers })).status).toBe(200);
  });
});

describe("one-time codes", () => {
  const TID = "limits-tests";
  let pool = "";
  let wid = "";
  const add = (body: unknown, p = pool) => sys("POST", `/pools/${p}/user/webauthn/add/request`, { tid: TID, body });
  const linkOptions = (userId: string, code: string) =>
    call("POST", `/${TID}/${wid}/enroll/webauthn/options`, { body: { user_id: userId, code } });
  async function codeFor(to: string): Promise<string> {
    const { messages } = await json<{ messages: Message[] }>(await sys("GET", "/outbox", { tid: TID }));
    const m = messages.find((x) => x.to === to);
    expect(m).toBeDefined();
    return m!.code;
  }
  const sent = async (to: string) =>
    (await json<{ messages: Message[] }>(await sys("GET", "/outbox", { tid: TID }))).messages.filter((m) => m.to === to).length;

  beforeAll(async () => {
    await env.DB.prepare("INSERT OR IGNORE INTO tenants (id, name, created_at) VALUES (?, 'Limits tests', 0)").bind(TID).run();
    pool = await newPool({}, TID);
    wid = await newWorkspace(["webauthn"], [pool], TID);
  });

  it("5 requests per user per hour, then 429; an unknown user is limited alike; an hour later requests work again", async () => {
    const user = await newUser(pool, TID);
    for (let i = 0; i < 5; i++) expect((await add({ userID: user.id })).status).toBe(204);
    // The same user by another lookup shares the user's counter.
    await expectLimited(await add({ identifier: user.email }), "otp_requests", 3600);
    expect(await sent(user.email)).toBe(5);

    const ghost = `ghost-${crypto.randomUUID()}@example.com`;
    for (let i = 0; i < 5; i++) expect((await add({ identifier: ghost })).status).toBe(204);
    await expectLimited(await add({ identifier: ghost.toUpperCase() }), "otp_requests", 3600);

    const later = Date.now() + 3600_000 + 1000;
    expect(await thrown(createEnrollmentCode(testCall({ tenantId: TID, now: later }), pool, { userID: user.id }))).toBeNull();
    expect(await sent(user.email)).toBe(6);
  });

  it("20 parallel requests for one user: exactly 5 codes are sent", async () => {
    const user = await newUser(pool, TID);
    const rs = await Promise.all(Array.from({ length: 20 }, () => add({ userID: user.id })));
    expect(statuses(rs)).toBe([...Array(5).fill("204"), ...Array(15).fill("429")].join(","));
    expect(await sent(user.email)).toBe(5);
    expect(await count("audit_events", "user_id = ? AND type = 'otp.requested'", user.id)).toBe(5);
    expect(await count("audit_events", "user_id = ? AND type = 'rate_limited'", user.id)).toBe(1);
  });

  it("10 wrong codes per user per day, then 429 also for the right code; a right code does not count; a day later it is lifted", async () => {
    const user = await newUser(pool, TID);
    // Each code dies after 5 wrong codes, so two codes give the ten wrong attempts.
    for (const round of [0, 1]) {
      expect((await add({ userID: user.id })).status).toBe(204);
      const code = await codeFor(user.email);
      if (round === 0) expect((await linkOptions(user.id, code)).status).toBe(200); // right: not counted
      for (let i = 0; i < 5; i++)
        await expectError(await linkOptions(user.id, code === "00000000" ? "11111111" : "00000000"), 401, "otp_invalid");
    }
    expect(await counter(counterKeys.otpFailuresUser(user.id), TID)).toMatchObject({ count: 10 });
    expect((await add({ userID: user.id })).status).toBe(204);
    const fresh = await codeFor(user.email);
    await expectLimited(await linkOptions(user.id, fresh), "otp_failures", 86400);
    // add/complete is limited by the same counter (before the code is looked at).
    const response = await new SoftAuthenticator().register(await begin(pool, user.id, "classic", TID), { origin: ORIGIN });
    await expectLimited(
      await sys("POST", `/pools/${pool}/user/webauthn/add/complete`, {
        tid: TID,
        body: { userID: user.id, code: fresh, new_web_authn: response },
      }),
      "otp_failures",
      86400,
    );
    expect(await count("credentials", "user_id = ? AND type = 'webauthn'", user.id)).toBe(0);

    const later = Date.now() + 86400_000 + 1000;
    // A day later the per-user limit is lifted: the (by then expired) code is an ordinary 401, not a 429.
    const e = await thrown(checkEnrollmentCode(testCall({ tenantId: TID, now: later }), pool, { userID: user.id }, fresh));
    expect(e?.status).toBe(401);
  });

  it("20 parallel wrong codes for one user: exactly 10 are checked (401), 10 refused (429)", async () => {
    const user = await newUser(pool, TID);
    expect((await add({ userID: user.id })).status).toBe(204);
    const code = await codeFor(user.email);
    const wrong = code === "00000000" ? "11111111" : "00000000";
    const rs = await Promise.all(Array.from({ length: 20 }, () => linkOptions(user.id, wrong)));
    expect(statuses(rs)).toBe([...Array(10).fill("401"), ...Array(10).fill("429")].join(","));
    expect(await counter(counterKeys.otpFailuresUser(user.id), TID)).toMatchObject({ count: 10, refused: 10 });
  });

  it("follows the pool's otp_requests_per_hour and otp_failures_per_day", async () => {
    const p = await newPool({ limits: { otp_requests_per_hour: 2, otp_failures_per_day: 1 } }, TID);
    const w = await newWorkspace(["webauthn"], [p], TID);
    const user = await newUser(p, TID);
    for (let i = 0; i < 2; i++) expect((await add({ userID: user.id }, p)).status).toBe(204);
    await expectLimited(await add({ userID: user.id }, p), "otp_requests", 3600);
    const code = await codeFor(user.email);
    await expectError(
      await call("POST", `/${TID}/${w}/enroll/webauthn/options`, { body: { user_id: user.id, code: code === "00000000" ? "1" : "0" } }),
      401,
      "otp_invalid",
    );
    await expectLimited(
      await call("POST", `/${TID}/${w}/enroll/webauthn/options`, { body: { user_id: user.id, code } }),
      "otp_failures",
      86400,
    );
  });
});

describe("client authentication failures at the token endpoint", () => {
  it("10 failures per client per minute, then 429 also for the right secret; a minute later it works", async () => {
    const {
      client: { clientId },
      secret,
    } = await createClient(testCall(), { scopes: ["identity"] });
    await json(await requestToken("default", grant, { authorization: basic(clientId, secret) })); // success: not counted
    for (let i = 0; i < 10; i++)
      await expectOAuthError(await requestToken("default", grant, { authorization: basic(clientId, `${secret}x`) }), 401, "invalid_client");
    await expectLimited(
      await requestToken("default", grant, { authorization: basic(clientId, secret) }),
      "client_auth_failures",
      60,
      expectOAuthError,
    );
    await expectLimited(
      await requestToken("default", { ...grant, client_id: clientId, client_secret: secret }),
      "client_auth_failures",
      60,
      expectOAuthError,
    );
    // Other clients are not affected.
    await expectOAuthError(await requestToken("default", grant, { authorization: basic(`${clientId}-other`, "x") }), 401, "invalid_client");

    const later = Date.now() + 61_000;
    const res = await createSystemToken(testCall({ now: later }), {
      grantType: "client_credentials",
      scope: "identity",
      clientId,
      clientSecret: secret,
      method: "basic",
    });
    expect(res.token_type).toBe("Bearer");
  });

  it("20 parallel wrong secrets: exactly 10 are checked (401), 10 refused (429)", async () => {
    const clientId = `ghost-${crypto.randomUUID()}`;
    const rs = await Promise.all(Array.from({ length: 20 }, () => requestToken("default", grant, { authorization: basic(clientId, "x") })));
    expect(statuses(rs)).toBe([...Array(10).fill("401"), ...Array(10).fill("429")].join(","));
  });
});

describe("per-pool configuration", () => {
  it("a new pool has the defaults; PUT changes them and keeps the others", async () => {
    const pool = await newPool();
    const got = await json<{ limits: Record<string, number> }>(await sys("GET", `/pools/${pool}`));
    expect(got.limits).toEqual({
      max_credentials: 100,
      webauthn_credentials_capacity: 10,
      password_failures: 5,
      otp_requests_per_hour: 5,
      otp_failures_per_day: 10,
    });
    const put = await json<{ limits: Record<string, number> }>(
      await sys("PUT", `/pools/${pool}`, { body: { limits: { password_failures: 7, otp_failures_per_day: 1000 } } }),
    );
    expect(put.limits).toEqual({
      max_credentials: 100,
      webauthn_credentials_capacity: 10,
      password_failures: 7,
      otp_requests_per_hour: 5,
      otp_failures_per_day: 1000,
    });
    const put2 = await json<{ limits: Record<string, number> }>(
      await sys("PUT", `/pools/${pool}`, { body: { limits: { otp_requests_per_hour: 1 } } }),
    );
    expect(put2.limits).toMatchObject({ password_failures: 7, otp_requests_per_hour: 1, otp_failures_per_day: 1000 });
  });

  it("out of range is 422 naming the field; not an integer is 400", async () => {
    const pool = await newPool();
    const cases: [Record<string, number>, string][] = [
      [{ password_failures: 0 }, "limits.password_failures"],
      [{ password_failures: 101 }, "limits.password_failures"],
      [{ otp_requests_per_hour: 0 }, "limits.otp_requests_per_hour"],
      [{ otp_requests_per_hour: 101 }, "limits.otp_requests_per_hour"],
      [{ otp_failures_per_day: -1 }, "limits.otp_failures_per_day"],
      [{ otp_failures_per_day: 1001 }, "limits.otp_failures_per_day"],
    ];
    for (const [limits, field] of cases) {
      const body = await expectError(await sys("PUT", `/pools/${pool}`, { body: { limits } }), 422, "invalid_configuration");
      expect(body.details.field).toBe(field);
      const created = await expectError(await sys("POST", "/pools", { body: { name: "x", limits } }), 422, "invalid_configuration");
      expect(created.details.field).toBe(field);
    }
    await expectError(await sys("PUT", `/pools/${pool}`, { body: { limits: { password_failures: 1.5 } } }), 400, "validation_failed");
    expect((await json<{ limits: Record<string, number> }>(await sys("GET", `/pools/${pool}`))).limits.password_failures).toBe(5);
  });

  it("the OpenAPI document describes the limits", async () => {
    const doc = await json<{
      components: { schemas: Record<string, { properties: Record<string, { properties?: Record<string, { description?: string }> }> }> };
    }>(await call("GET", "/openapi.json"));
    const limits = doc.components.schemas.Pool!.properties.limits!.properties!;
    for (const f of ["password_failures", "otp_requests_per_hour", "otp_failures_per_day"])
      expect(limits[f]?.description).toMatch(/default \d+/);
  });
});

describe("counters", () => {
  it("20 parallel reservations on one counter take exactly the limit; expired counters are purged by the cron", async () => {
    const c = { tenantId: "default", key: `test:${crypto.randomUUID()}` };
    const audit = { tenantId: "default", actor: "test", type: "rate_limited" as const };
    const now = Date.now();
    const rs = await Promise.all(Array.from({ length: 20 }, () => reserve(env.DB, c, 7, 60_000, now, audit)));
    expect(rs.filter((r) => r.ok)).toHaveLength(7);
    expect(await readCounter(env.DB, c, now)).toEqual({ count: 7, refused: 13, expiresAt: now + 60_000 });
    // A new window starts once the last one has passed.
    expect(await reserve(env.DB, c, 7, 60_000, now + 60_000, audit)).toEqual({ ok: true, expiresAt: now + 120_000 });
    expect(await readCounter(env.DB, c, now + 60_000)).toMatchObject({ count: 1, refused: 0 });
    await purgeExpired(env.DB, now + 120_001);
    expect(await count("rate_counters", "tenant_id = ? AND key = ?", c.tenantId, c.key)).toBe(0);
  });
});
