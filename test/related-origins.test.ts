/**
 * Issue 12 item 6, related origins (WebAuthn L3 §5.11): `GET /.well-known/webauthn` at a host that is a pool's RP ID
 * lists the pools' origins on other domains; pool settings accept such an origin only as a related origin (https, a
 * real RP ID, at most 5 labels); a ceremony from a listed related origin passes and from an unlisted one fails.
 */
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SoftAuthenticator } from "./authenticator";
import { call, expectError, json, systemToken, sys, uid } from "./helpers/api";
import { begin, complete, newPool, newUser } from "./helpers/passkeys";
import { finish, newWorkspace } from "./helpers/signin";
import { describeCalls, measuredFetch } from "./helpers/storage-use";

const ISSUER_HOST = "id.example.com";
/** Production with ISSUER_BASE_URL: a pool's empty RP ID is id.example.com, never the request's host. */
const PROD = { ...env, ENVIRONMENT: "production", ISSUER_BASE_URL: `https://${ISSUER_HOST}` };

/** A fresh registrable-looking domain name per test: `<label>.example`, and its label for other TLDs. */
const domain = () => {
  const label = uid("rp");
  return { label, rpId: `${label}.example` };
};

/** GET https://{host}/.well-known/webauthn through the Worker's entrypoint, counting its storage use. */
async function wellKnown(host: string, base: Cloudflare.Env = PROD) {
  const m = await measuredFetch(`https://${host}/.well-known/webauthn`, {}, base);
  expect(m.critical.d1RoundTrips, describeCalls(m.critical)).toBe(1);
  expect(m.critical.kvReads + m.critical.kvWrites).toBe(0);
  return m.res;
}

async function originsAt(host: string, base: Cloudflare.Env = PROD): Promise<string[]> {
  const res = await wellKnown(host, base);
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.headers.get("cache-control")).toBe("public, max-age=300");
  const body = await json<{ origins: string[] }>(res, 200);
  expect(Object.keys(body)).toEqual(["origins"]);
  return body.origins;
}

const poolWith = (rpId: string, origins: string[], tid = "default") =>
  newPool({ passkey_settings: { relying_party_id: rpId, relying_party_origins: origins } }, tid);

const createPoolRes = (rpId: string, origins: string[]) =>
  sys("POST", "/pools", { body: { name: uid("pool"), passkey_settings: { relying_party_id: rpId, relying_party_origins: origins } } });

describe("GET /.well-known/webauthn", () => {
  it("lists the pool's origins on other domains, not those on the RP ID's domain (one D1 read)", async () => {
    const { label, rpId } = domain();
    const lookAlikes = [`https://evil${rpId}`, `https://${rpId}.evil.org`];
    await poolWith(rpId, [`https://${rpId}`, `https://app.${rpId}`, `https://${label}.co.uk`, `https://a.b.${rpId}:8443`, ...lookAlikes]);
    expect(await originsAt(rpId)).toEqual([`https://${label}.co.uk`, ...lookAlikes]);
  });

  it("answers the union of the pools with that RP ID of the first tenant that claimed it, each origin once", async () => {
    const { label, rpId } = domain();
    const tid = uid("tn");
    await json(await call("POST", "/api/identity/system/tenants", { token: await systemToken(), body: { id: tid, name: tid } }), 201);
    await poolWith(rpId, [`https://${label}.co.uk`, `https://${label}.de`]);
    await poolWith(rpId, [`https://app.${rpId}`, `https://${label}.de`, `https://${label}.fr`]);
    // Another tenant naming the same RP ID later cannot publish its origins under that domain.
    await poolWith(rpId, [`https://${label}.it`], tid);
    await poolWith(`other-${rpId}`, [`https://${label}.es`]);
    expect((await originsAt(rpId)).sort()).toEqual([`https://${label}.co.uk`, `https://${label}.de`, `https://${label}.fr`]);
    // And the other way round: when the other tenant claimed it first, only its origins are published.
    const second = domain();
    await poolWith(second.rpId, [`https://${second.label}.it`], tid);
    await poolWith(second.rpId, [`https://${second.label}.de`]);
    expect(await originsAt(second.rpId)).toEqual([`https://${second.label}.it`]);
  });

  it("answers an empty list for a pool whose origins are all on its domain", async () => {
    const { rpId } = domain();
    await poolWith(rpId, [`https://${rpId}`, `https://login.${rpId}`]);
    expect(await originsAt(rpId)).toEqual([]);
  });

  it("is 404 with the error body for a host that is no pool's RP ID: a subdomain, a parent, another domain", async () => {
    const { label, rpId } = domain();
    await poolWith(rpId, [`https://${label}.co.uk`]);
    for (const host of [`app.${rpId}`, `${label}.co.uk`, "example", "unknown.example.org"]) {
      const body = await expectError(await wellKnown(host), 404, "not_found");
      expect(body.status_code).toBe(404);
    }
  });

  it("a changed RP ID moves the list; an origin removed from the settings leaves it", async () => {
    const { label, rpId } = domain();
    const pool = await poolWith(rpId, [`https://${label}.co.uk`, `https://${label}.de`]);
    await json(await sys("PUT", `/pools/${pool}`, { body: { passkey_settings: { relying_party_origins: [`https://${label}.de`] } } }));
    expect(await originsAt(rpId)).toEqual([`https://${label}.de`]);
    await json(await sys("PUT", `/pools/${pool}`, { body: { passkey_settings: { relying_party_id: `new.${rpId}` } } }));
    expect(await originsAt(`new.${rpId}`)).toEqual([`https://${label}.de`]);
    await expectError(await wellKnown(rpId), 404, "not_found");
  });

  it("is in the OpenAPI document", async () => {
    const doc = await json<{ paths: Record<string, { get?: { responses: Record<string, unknown> } }> }>(await call("GET", "/openapi.json"));
    expect(Object.keys(doc.paths["/.well-known/webauthn"]?.get?.responses ?? {}).sort()).toEqual(["200", "404", "503"]);
  });

  describe("a pool's empty RP ID is the service's host", () => {
    it("with ISSUER_BASE_URL: its host answers (with any pool that names it explicitly); other hosts do not", async () => {
      const { label } = domain();
      // The seeded pools leave their RP ID empty, so the issuer's host is their RP ID.
      expect(await originsAt(ISSUER_HOST)).not.toContain(`https://${label}.co.uk`);
      await poolWith(ISSUER_HOST, [`https://${ISSUER_HOST}`, `https://${label}.co.uk`]);
      expect(await originsAt(ISSUER_HOST)).toContain(`https://${label}.co.uk`);
      await expectError(await wellKnown(`${label}.example`), 404, "not_found");
    });

    it("in development without ISSUER_BASE_URL: the request's host (any host answers, with no origins)", async () => {
      const { rpId } = domain();
      const dev = { ...env, ENVIRONMENT: "development", ISSUER_BASE_URL: "" };
      expect(await originsAt(rpId, dev)).toEqual([]);
      expect(await originsAt("localhost", dev)).toEqual([]);
    });

    it("in production without ISSUER_BASE_URL: explicit RP IDs still answer, the empty one matches nothing (no 503)", async () => {
      const { label, rpId } = domain();
      await poolWith(rpId, [`https://${label}.co.uk`]);
      const bare = { ...env, ENVIRONMENT: "production", ISSUER_BASE_URL: "" };
      expect(await originsAt(rpId, bare)).toEqual([`https://${label}.co.uk`]);
      // The seeded pools' empty RP ID matches no host, neither the request's (as in development) nor a configured one.
      await expectError(await wellKnown(`www.${rpId}`, bare), 404, "not_found");
    });
  });
});

describe("pool settings: origins on other domains are related origins", () => {
  const field = "passkey_settings.relying_party_origins";
  const refused = async (rpId: string, origins: string[]) =>
    expect((await expectError(await createPoolRes(rpId, origins), 422, "invalid_configuration")).details.field).toBe(field);

  it("accepts https origins on other domains, normalised and deduplicated", async () => {
    const { label, rpId } = domain();
    const res = await createPoolRes(rpId, [`https://${label}.co.uk`, `https://${label.toUpperCase()}.CO.UK`, `https://${label}.de:443`]);
    const body = await json<{ passkey_settings: { relying_party_origins: string[] } }>(res, 201);
    expect(body.passkey_settings.relying_party_origins).toEqual([`https://${label}.co.uk`, `https://${label}.de`]);
  });

  it("refuses http on another domain, also for an http://localhost origin", async () => {
    const { label, rpId } = domain();
    await refused(rpId, [`http://${label}.co.uk`]);
    await refused(rpId, ["http://localhost:3000"]);
  });

  it("refuses another domain for a localhost RP ID, and a localhost or IP host as a related origin", async () => {
    const { label, rpId } = domain();
    await refused("localhost", [`https://${label}.co.uk`]);
    await refused("app.localhost", [`https://${label}.co.uk`]);
    await refused(rpId, ["https://localhost"]);
    await refused(rpId, ["https://app.localhost:8443"]);
    await refused(rpId, ["https://93.184.216.34"]);
    await refused(rpId, [`https://${label}`]);
  });

  it("allows at most 5 other-domain labels: www.{host} counts with {host}, ports and RP-domain origins not at all", async () => {
    const { label, rpId } = domain();
    const five = ["co.uk", "de", "fr", "it", "es"].map((tld) => `https://${label}.${tld}`);
    const extra = [`https://www.${label}.de`, `https://${label}.fr:8443`, `https://${rpId}`, `https://app.${rpId}`];
    await json(await createPoolRes(rpId, [...five, ...extra]), 201);
    await refused(rpId, [...five, `https://${label}.nl`]);
    // Without the public suffix list a subdomain on another domain counts as a label of its own (never fewer than a browser).
    await refused(rpId, [...five, `https://shop.${label}.de`]);
  });

  it("counts the labels of all the tenant's pools with that RP ID together (they are published together)", async () => {
    const { label, rpId } = domain();
    const first = await poolWith(
      rpId,
      ["co.uk", "de", "fr"].map((tld) => `https://${label}.${tld}`),
    );
    // Two more domains fit; a third would make six in the published list.
    await json(await createPoolRes(rpId, [`https://${label}.it`, `https://${label}.es`, `https://${label}.de`]), 201);
    await refused(rpId, [`https://${label}.nl`]);
    // A pool's own update is not counted twice, and another tenant's pools do not count (they are not published).
    await json(await sys("PUT", `/pools/${first}`, { body: { passkey_settings: { relying_party_origins: [`https://${label}.co.uk`] } } }));
    await json(await createPoolRes(rpId, [`https://${label}.nl`]), 201);
    const tid = uid("tn");
    await json(await call("POST", "/api/identity/system/tenants", { token: await systemToken(), body: { id: tid, name: tid } }), 201);
    await poolWith(
      rpId,
      ["pt", "be", "at", "ch", "se"].map((tld) => `https://${label}.${tld}`),
      tid,
    );
  });

  it("checks the labels again when only the RP ID changes (its own domain's origins then count)", async () => {
    const { label, rpId } = domain();
    const five = ["co.uk", "de", "fr", "it", "es"].map((tld) => `https://${label}.${tld}`);
    const pool = await poolWith(rpId, [...five, `https://${rpId}`, `https://app.${rpId}`]);
    const res = await sys("PUT", `/pools/${pool}`, { body: { passkey_settings: { relying_party_id: `${label}.co.uk` } } });
    expect((await expectError(res, 422, "invalid_configuration")).details.field).toBe(field);
  });
});

describe("ceremonies from a related origin", () => {
  async function relatedSetup() {
    const { label, rpId } = domain();
    const related = `https://${label}.co.uk`;
    const pool = await newPool({
      authentication_mechanisms: ["webauthn"],
      passkey_settings: { relying_party_id: rpId, relying_party_origins: [`https://${rpId}`, related] },
    });
    const wid = await newWorkspace(["usernameless_webauthn"], [pool]);
    const user = await newUser(pool);
    return { label, rpId, related, pool, wid, user };
  }

  const signInOptions = async (wid: string, origin: string) =>
    json<{ login_id: string; publicKey: PublicKeyCredentialRequestOptionsJSON }>(
      await call("POST", `/default/${wid}/login/webauthn/options`, { body: {}, headers: { origin } }),
    );

  it("registers a passkey and signs in with it from the listed origin; CORS of the sign-in API allows it", async () => {
    const { rpId, related, pool, wid, user } = await relatedSetup();
    expect(await originsAt(rpId)).toEqual([related]);
    const auth = new SoftAuthenticator();
    const created = await begin(pool, user.id, "smart");
    expect(created.rp.id).toBe(rpId);
    await json(await complete(pool, user.id, "smart", await auth.register(created, { origin: related })));

    const pre = await call("OPTIONS", `/default/${wid}/login/webauthn/options`, {
      headers: { origin: related, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBe(related);
    const opts = await signInOptions(wid, related);
    expect(opts.publicKey.rpId).toBe(rpId);
    const res = await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: related }));
    expect((await json<{ access_token: string }>(res)).access_token).toBeTruthy();
  });

  it("refuses registration and sign-in from an origin on another domain that is not listed, and gives it no CORS", async () => {
    const { label, pool, wid, user, related } = await relatedSetup();
    const unlisted = `https://${label}.fr`;
    const created = await begin(pool, user.id, "smart");
    const refused = await new SoftAuthenticator().register(created, { origin: unlisted });
    await expectError(await complete(pool, user.id, "smart", refused), 400, "registration_failed");
    // The same challenge from the listed origin is still good: only the origin was wrong.
    const auth = new SoftAuthenticator();
    await json(await complete(pool, user.id, "smart", await auth.register(created, { origin: related })));

    const pre = await call("OPTIONS", `/default/${wid}/login/webauthn/options`, {
      headers: { origin: unlisted, "access-control-request-method": "POST" },
    });
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const opts = await signInOptions(wid, related);
    await expectError(
      await finish(wid, opts.login_id, await auth.authenticate(opts.publicKey, { origin: unlisted })),
      401,
      "authentication_failed",
    );
    const again = await signInOptions(wid, related);
    await json(await finish(wid, again.login_id, await auth.authenticate(again.publicKey, { origin: related })));
  });
});
