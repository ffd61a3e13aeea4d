/**
 * One-time codes: the development outbox, the production webhook messenger, code generation. Also
 * test/otp-request.test.ts and test/otp-complete.test.ts.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { app } from "../src/app";
import { hmacHex, messengerFor, SIGNATURE_HEADER, type Messenger } from "../src/services/messenger";
import { codePolicy, createEnrollmentCode, generateCode } from "../src/services/otp";
import { expectError, ORIGIN } from "./helpers/api";
import { testCall } from "./helpers/call";
import { codeRow, otpHelpers, otpTenant, PROD, prodToken } from "./helpers/otp";
import { newUser } from "./helpers/passkeys";

/** A tenant of its own, so outbox counts are exact whatever other test files do. */
const TID = "otp-delivery-tests";
let pool = "";
const { outbox, request } = otpHelpers(TID, () => pool);

beforeAll(async () => {
  pool = await otpTenant(TID);
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("development outbox", () => {
  it("lists only this tenant's messages, newest first", async () => {
    const user = await newUser(pool, TID);
    await request({ userID: user.id });
    await request({ userID: user.id });
    const mine = (await outbox()).filter((m) => m.to === user.email);
    expect(mine).toHaveLength(2);
    expect(mine[0]!.created_at >= mine[1]!.created_at).toBe(true);
    expect((await outbox("default")).some((m) => m.to === user.email)).toBe(false);
  });

  it("is 404 outside development", async () => {
    const token = await prodToken(TID);
    const res = await app.request(`${ORIGIN}/api/identity/${TID}/system/outbox`, { headers: { authorization: `Bearer ${token}` } }, PROD);
    await expectError(res, 404, "not_found");
  });
});

describe("webhook messenger (production)", () => {
  const hook = { ...PROD, OTP_WEBHOOK_URL: "https://hooks.example/otp", OTP_WEBHOOK_SECRET: "whsec-test-0123456789" };

  it("POSTs the JSON body with a verifiable HMAC-SHA256 signature", async () => {
    const seen: Request[] = [];
    vi.spyOn(globalThis, "fetch").mockImplementation(async (input, init) => {
      seen.push(new Request(input, init));
      return new Response(null, { status: 202 });
    });
    const now = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    await messengerFor(hook).send({ tenantId: TID, to: "ada@example.com", purpose: "enroll_webauthn", code: "01234567" }, now);

    expect(seen).toHaveLength(1);
    const req = seen[0]!;
    expect(req.method).toBe("POST");
    expect(req.url).toBe(hook.OTP_WEBHOOK_URL);
    expect(req.headers.get("content-type")).toBe("application/json");
    const body = await req.text();
    expect(JSON.parse(body)).toEqual({
      tenant_id: TID,
      to: "ada@example.com",
      purpose: "enroll_webauthn",
      code: "01234567",
      created_at: "2026-01-02T03:04:05.678Z",
    });

    const sig = req.headers.get(SIGNATURE_HEADER)!;
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(Math.floor(now / 1000));
    // Verify as a receiver would: HMAC over "<t>.<raw body>" with the shared secret.
    const key = await crypto.subtle.importKey(
      "raw",
      new TextEncoder().encode(hook.OTP_WEBHOOK_SECRET),
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["verify"],
    );
    const mac = new Uint8Array(m![2]!.match(/../g)!.map((h) => parseInt(h, 16)));
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${m![1]}.${body}`))).toBe(true);
    expect(await crypto.subtle.verify("HMAC", key, mac, new TextEncoder().encode(`${m![1]}.${body.replace("01234567", "01234568")}`))).toBe(
      false,
    );
    expect(m![2]).toBe(await hmacHex(hook.OTP_WEBHOOK_SECRET, `${m![1]}.${body}`));
  });

  it("a failing webhook throws from send(), but add/request still answers 204 and keeps the code", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const fetchSpy = vi.spyOn(globalThis, "fetch").mockImplementation(async () => new Response("nope", { status: 500 }));
    await expect(
      messengerFor(hook).send({ tenantId: TID, to: "x@example.com", purpose: "enroll_webauthn", code: "1" }, Date.now()),
    ).rejects.toThrow(/500/);

    const user = await newUser(pool, TID);
    const token = await prodToken(TID);
    const res = await app.request(
      `${ORIGIN}/api/identity/${TID}/system/pools/${pool}/user/webauthn/add/request`,
      {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ userID: user.id }),
      },
      hook,
    );
    expect(res.status).toBe(204);
    expect(fetchSpy).toHaveBeenCalledTimes(2);
    expect(await codeRow(user.id)).not.toBeNull();
    expect((await outbox()).some((m) => m.to === user.email)).toBe(false);

    fetchSpy.mockImplementation(async () => {
      throw new Error("connection refused");
    });
    await createEnrollmentCode(testCall({ env: hook, tenantId: TID }), pool, { userID: user.id });
  });

  it("without OTP_WEBHOOK_URL (or its secret) nothing is delivered, with a warning, and add/request is still 204", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => undefined);
    const fetchSpy = vi.spyOn(globalThis, "fetch");
    const user = await newUser(pool, TID);
    const token = await prodToken(TID);
    for (const e of [PROD, { ...hook, OTP_WEBHOOK_SECRET: undefined }]) {
      const res = await app.request(
        `${ORIGIN}/api/identity/${TID}/system/pools/${pool}/user/webauthn/add/request`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ userID: user.id }),
        },
        e,
      );
      expect(res.status).toBe(204);
    }
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls.flat().join(" ")).not.toMatch(/[0-9]{8}/);
  });

  it("a messenger that throws does not fail the request", async () => {
    vi.spyOn(console, "error").mockImplementation(() => undefined);
    const user = await newUser(pool, TID);
    const broken: Messenger = {
      send: async () => {
        throw new Error("down");
      },
    };
    await expect(createEnrollmentCode(testCall({ tenantId: TID }), pool, { userID: user.id }, broken)).resolves.toBeUndefined();
    expect(await codeRow(user.id)).not.toBeNull();
  });
});

describe("code generation", () => {
  it("makes codes of exactly the requested length, digits only, with every digit reachable", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const c = generateCode(8);
      expect(c).toMatch(/^[0-9]{8}$/);
      for (const d of c) seen.add(d);
    }
    expect(seen.size).toBe(10);
    expect(generateCode(10)).toMatch(/^[0-9]{10}$/);
  });

  it("falls back to the defaults for missing or malformed settings", () => {
    expect(codePolicy({ otpSettings: { enroll_webauthn: { length: 6, ttl: "90s" } } })).toEqual({ length: 6, ttlSeconds: 90 });
    expect(codePolicy({ otpSettings: { enroll_webauthn: { length: 3, ttl: "soon" } } })).toEqual({ length: 8, ttlSeconds: 600 });
  });
});
