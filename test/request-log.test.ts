import { SELF } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { basic, CLIENT, json, ORIGIN, requestToken, sys, systemToken } from "./helpers/api";

type Line = { request_id: string; method: string; route: string | null; status: number; duration_ms: number };

/** Runs `fn` with console.log spied on; returns the request log lines it printed (JSON lines with a request_id). */
async function logged(fn: () => Promise<unknown>): Promise<{ raw: string[]; lines: Line[] }> {
  const spy = vi.spyOn(console, "log");
  try {
    await fn();
    const raw = spy.mock.calls.map((args) => args.map(String).join(" "));
    const lines = raw.filter((r) => r.startsWith('{"request_id"')).map((r) => JSON.parse(r) as Line);
    return { raw, lines };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => vi.restoreAllMocks());

describe("request log", () => {
  it("logs one JSON line per request with the route pattern, and returns X-Request-Id", async () => {
    const token = await systemToken();
    let res!: Response;
    const { lines } = await logged(async () => {
      res = await sys("GET", "/pools/default?limit=5&secret=hunter2", { token });
    });
    expect(res.status).toBe(200);
    expect(lines).toHaveLength(1);
    const line = lines[0]!;
    expect(Object.keys(line).sort()).toEqual(["duration_ms", "method", "request_id", "route", "status"]);
    expect(line).toMatchObject({ method: "GET", route: "/api/identity/:tid/system/pools/:ipID", status: 200 });
    expect(line.duration_ms).toBeGreaterThanOrEqual(0);
    expect(res.headers.get("x-request-id")).toBe(line.request_id);
    expect(line.request_id).toMatch(/^[A-Za-z0-9_-]{8,}$/);
  });

  it("uses cf-ray as the request id, on errors too; an unmatched path logs no route", async () => {
    const { lines } = await logged(async () => {
      const res = await SELF.fetch(`${ORIGIN}/api/identity/default/system/pools`, { headers: { "cf-ray": "8a1b2c3d4e5f-LHR" } });
      expect(res.status).toBe(401);
      expect(res.headers.get("x-request-id")).toBe("8a1b2c3d4e5f-LHR");
      const missing = await SELF.fetch(`${ORIGIN}/no/such/path/abc?code=12345678`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get("x-request-id")).toBeTruthy();
    });
    expect(lines.map((l) => [l.request_id === "8a1b2c3d4e5f-LHR", l.route, l.status])).toEqual([
      [true, "/api/identity/:tid/system/pools", 401],
      [false, null, 404],
    ]);
  });

  it("never logs tokens, secrets, codes, bodies or query strings", async () => {
    const token = await systemToken();
    const code = "31415926";
    const { raw, lines } = await logged(async () => {
      const t = await requestToken(
        "default",
        { grant_type: "client_credentials", scope: "identity" },
        { authorization: basic(CLIENT.id, CLIENT.secret) },
      );
      const issued = (await json<{ access_token: string }>(t)).access_token;
      expect(issued.length).toBeGreaterThan(20);
      await sys("POST", "/pools/default/user/webauthn/add/complete", {
        token,
        body: {
          userID: "nobody",
          code,
          new_web_authn: { id: "x", rawId: "x", type: "public-key", response: { clientDataJSON: "x", attestationObject: "x" } },
        },
      });
      await SELF.fetch(`${ORIGIN}/default/admin/enroll?user=someone&code=${code}`);
      // The issued token must not show up in the lines logged after it was issued either.
      await sys("GET", "/pools", { token: issued });
    });
    expect(lines.length).toBeGreaterThanOrEqual(4);
    const text = lines.map((l) => JSON.stringify(l)).join("\n");
    for (const secret of [token, CLIENT.secret, code, "someone", "?", "client_credentials"]) expect(text).not.toContain(secret);
    // No other console.log line carries them either.
    for (const secret of [token, CLIENT.secret, code]) expect(raw.join("\n")).not.toContain(secret);
    expect(lines.map((l) => l.route)).toEqual(
      expect.arrayContaining(["/:tid/system/oauth2/token", "/api/identity/:tid/system/pools/:ipID/user/webauthn/add/complete"]),
    );
  });
});
