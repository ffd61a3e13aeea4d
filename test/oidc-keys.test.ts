import { env, SELF } from "cloudflare:test";
import { createLocalJWKSet, decodeProtectedHeader, type JWK, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { fromB64url } from "../src/crypto/bytes";
import { signJwt, verifyAccessToken } from "../src/crypto/jwt";
import { json, ORIGIN, sys, uid } from "./helpers/api";
import { systemToken } from "./helpers/api";

const keys = { db: env.DB, secret: env.KEY_ENCRYPTION_SECRET };

async function newTenant(): Promise<string> {
  const id = uid("keys").toLowerCase();
  const res = await SELF.fetch(`${ORIGIN}/api/identity/system/tenants`, {
    method: "POST",
    headers: { authorization: `Bearer ${await systemToken("default")}`, "content-type": "application/json" },
    body: JSON.stringify({ id, name: "Keys" }),
  });
  expect(res.status).toBe(201);
  return id;
}

const jwksOf = async (tid: string) => json<{ keys: JWK[] }>(await SELF.fetch(`${ORIGIN}/${tid}/.well-known/jwks.json`));

describe("RS256 and ES256 keys per tenant", () => {
  it("a new tenant publishes exactly one ES256 (P-256) and one RS256 (RSA 2048) key, public parts only", async () => {
    const tid = await newTenant();
    const { keys: published } = await jwksOf(tid);
    expect(published.map((k) => [k.kty, k.alg, k.use]).sort()).toEqual([
      ["EC", "ES256", "sig"],
      ["RSA", "RS256", "sig"],
    ]);
    const ec = published.find((k) => k.kty === "EC")!;
    const rsa = published.find((k) => k.kty === "RSA")!;
    expect(ec.crv).toBe("P-256");
    expect(fromB64url(rsa.n!)!.length).toBe(256);
    expect(rsa.e).toBe("AQAB");
    for (const k of published) for (const p of ["d", "p", "q", "dp", "dq", "qi"]) expect(k).not.toHaveProperty(p);
    const rows = await env.DB.prepare("SELECT alg, private_jwk_enc FROM signing_keys WHERE tenant_id = ? ORDER BY alg").bind(tid).all<{
      alg: string;
      private_jwk_enc: string;
    }>();
    expect(rows.results.map((r) => r.alg)).toEqual(["ES256", "RS256"]);
    for (const r of rows.results) expect(r.private_jwk_enc).not.toMatch(/"d"|"p"|"kty"/);
  });

  it("signs with either algorithm; both verify with jose against the published JWKS, and signing makes no new key", async () => {
    const tid = await newTenant();
    const now = Date.now();
    const issuer = `${ORIGIN}/${tid}/default`;
    const claims = { sub: "user-1", aud: "client-1", nonce: "n" };
    const rs = await signJwt(keys, tid, "RS256", claims, { issuer, ttlSeconds: 900, typ: "JWT", now });
    const es = await signJwt(keys, tid, "ES256", claims, { issuer, ttlSeconds: 900, typ: "JWT", now });
    const jwks = await jwksOf(tid);
    expect(jwks.keys.length).toBe(2);
    const set = createLocalJWKSet(jwks);
    for (const [token, alg] of [
      [rs, "RS256"],
      [es, "ES256"],
    ] as const) {
      const header = decodeProtectedHeader(token);
      expect(header).toEqual({ alg, kid: jwks.keys.find((k) => k.alg === alg)!.kid, typ: "JWT" });
      const { payload } = await jwtVerify(token, set, { issuer, audience: "client-1", algorithms: [alg] });
      expect(payload).toMatchObject({ ...claims, iss: issuer, exp: Math.floor(now / 1000) + 900 });
      expect(typeof payload.jti).toBe("string");
    }
  });

  it("a tenant with only an ES256 key (made before RS256) gets its RS256 key on the next signature; access tokens stay ES256", async () => {
    const tid = await newTenant();
    await env.DB.prepare("DELETE FROM signing_keys WHERE tenant_id = ? AND alg = 'RS256'").bind(tid).run();
    expect((await jwksOf(tid)).keys.map((k) => k.alg)).toEqual(["ES256"]);
    // The isolate cache still remembers the deleted key for a minute: sign as a minute later.
    const later = Date.now() + 61_000;
    const token = await signJwt(keys, tid, "ES256", { sub: "x" }, { issuer: "i", ttlSeconds: 60, typ: "JWT", now: later });
    expect(decodeProtectedHeader(token).alg).toBe("ES256");
    expect((await jwksOf(tid)).keys.map((k) => k.alg).sort()).toEqual(["ES256", "RS256"]);

    // The system token is an ES256 access token; an RS256 token is never an access token.
    const access = await systemToken(tid);
    expect(decodeProtectedHeader(access)).toMatchObject({ alg: "ES256", typ: "at+jwt" });
    expect((await sys("GET", "/pools", { tid, token: access })).status).toBe(200);
    const now = Date.now();
    const rsAccess = await signJwt(
      keys,
      tid,
      "RS256",
      { sub: "c", tid, scope: "identity" },
      { issuer: `${ORIGIN}/${tid}`, ttlSeconds: 60, typ: "at+jwt", now },
    );
    expect(await verifyAccessToken(env.DB, ORIGIN, rsAccess, now)).toBeNull();
    expect(await verifyAccessToken(env.DB, ORIGIN, access, now)).toMatchObject({ tid, scope: "identity" });
  });
});
