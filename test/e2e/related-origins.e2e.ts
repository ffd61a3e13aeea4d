/**
 * Related origins (issue 12, item 6) in chromium: a real related-origin ceremony. Chromium fetches
 * `https://{rpId}/.well-known/webauthn` itself when a page asks for an RP ID that is not its own domain, over https
 * only, and refuses WebAuthn on a page with a certificate error. So the test puts an https front (Node, a self-signed
 * certificate made with openssl for the test's host names) before `wrangler dev`, which passes every request on with
 * its Host, and launches chromium with
 * - `--host-resolver-rules=MAP <name> 127.0.0.1:<front port>` for rp.example.com (the RP ID, the service), example.co.uk
 *   (a listed related origin) and unlisted.example.org; no real DNS or network;
 * - `--ignore-certificate-errors-spki-list=<sha256 of the certificate's key>`: the certificate is then valid for this
 *   browser (no certificate error, so WebAuthn is allowed), unlike `--ignore-certificate-errors`.
 * A page of the "app" at https://example.co.uk signs up a passkey for RP ID rp.example.com and signs in with it through
 * the sign-in API (cross-origin, CORS); a page at https://unlisted.example.org is refused by chromium after it read the
 * service's list. The console shows the well-known URL and its list. Screenshots: test/e2e/screenshots/related-origins-*.
 */
import { execFileSync } from "node:child_process";
import { createHash, X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AuthPage, launch, pageWithAuthenticator, shot, signedInAdmin, sysApi, uniq } from "./browser";
import { BASE, E2E_PORT } from "./config";

const RP_ID = "rp.example.com";
const RELATED = "https://example.co.uk";
const UNLISTED = "https://unlisted.example.org";
const HOSTS = [RP_ID, "example.co.uk", "unlisted.example.org"];
const poll = expect.poll;

let dir: string;
let front: https.Server;
let browser: Browser;

/** A self-signed certificate for HOSTS; returns the base64 SHA-256 of its public key (SPKI), for chromium's flag. */
function makeCertificate(): { key: Buffer; cert: Buffer; spki: string } {
  dir = mkdtempSync(join(tmpdir(), "related-origins-"));
  const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
  execFileSync(
    "openssl",
    [
      ...["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1"],
      ...["-keyout", key, "-out", cert, "-subj", "/CN=passkey-edge e2e related origins"],
      ...["-addext", `subjectAltName=${HOSTS.map((h) => `DNS:${h}`).join(",")}`],
    ],
    { stdio: "ignore" },
  );
  const der = new X509Certificate(readFileSync(cert)).publicKey.export({ type: "spki", format: "der" });
  return { key: readFileSync(key), cert: readFileSync(cert), spki: createHash("sha256").update(der).digest("base64") };
}

/** The app's page on a related (or unlisted) origin: static, no script; the test drives WebAuthn in it. */
const APP_PAGE = (host: string) =>
  `<!doctype html><html lang="en"><meta charset="utf-8"><title>Shop at ${host}</title>` +
  `<body style="font-family:sans-serif;margin:2rem"><h1>Shop at ${host}</h1>` +
  `<p>This page signs in with passkeys of <code>${RP_ID}</code> through passkey-edge.</p><p id="out" role="status"></p></body></html>`;

/** https for HOSTS: `/` of a non-RP host is the app's page, everything else goes to wrangler dev with its Host. */
function startFront(key: Buffer, cert: Buffer): Promise<number> {
  front = https.createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "");
    if (req.method === "GET" && req.url === "/" && host !== RP_ID) {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(APP_PAGE(host));
      return;
    }
    const upstream = http.request({ host: "localhost", port: E2E_PORT, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on("error", () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  return new Promise((resolve) => front.listen(0, "127.0.0.1", () => resolve((front.address() as AddressInfo).port)));
}

beforeAll(async () => {
  const { key, cert, spki } = makeCertificate();
  const port = await startFront(key, cert);
  browser = await launch([
    `--host-resolver-rules=${HOSTS.map((h) => `MAP ${h} 127.0.0.1:${port}`).join(",")}`,
    `--ignore-certificate-errors-spki-list=${spki}`,
  ]);
});
afterAll(async () => {
  await browser?.close();
  await new Promise((r) => front?.close(r));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A pool with RP ID rp.example.com and the related origin, a Smart workspace over it, and a user. */
async function world() {
  const pool = await sysApi<{ id: string }>("POST", "/pools", {
    name: uniq("Related"),
    authentication_mechanisms: ["webauthn"],
    passkey_settings: { relying_party_id: RP_ID, relying_party_origins: [`https://${RP_ID}`, RELATED] },
  });
  const ws = await sysApi<{ id: string }>("POST", "/workspaces", {
    name: uniq("ws"),
    authentication_mechanisms: ["usernameless_webauthn"],
    identity_pools: [pool.id],
  });
  const email = `${uniq("shopper")}@example.com`;
  const user = await sysApi<{ id: string }>("POST", `/pools/${pool.id}/users`, {
    identifiers: [{ identifier: email, type: "email" }],
    verifiable_addresses: [{ address: email, type: "email", verified: true }],
  });
  return { poolId: pool.id, wid: ws.id, userId: user.id };
}

async function appPage(origin: string): Promise<AuthPage & { errors: string[] }> {
  const { page, cdp, authenticatorId } = await pageWithAuthenticator(browser, { viewport: { width: 900, height: 500 } });
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${origin}/`);
  expect(await page.evaluate(() => window.isSecureContext)).toBe(true);
  return { page, cdp, authenticatorId, errors };
}

/** navigator.credentials.create in the page with the server's JSON options; the credential's JSON or the error. */
function createIn(page: Page, options: unknown): Promise<{ ok: boolean; value: unknown }> {
  return page.evaluate(async (json) => {
    try {
      const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(json as PublicKeyCredentialCreationOptionsJSON);
      const cred = (await navigator.credentials.create({ publicKey })) as PublicKeyCredential;
      return { ok: true, value: cred.toJSON() };
    } catch (e) {
      return { ok: false, value: `${(e as Error).name}: ${(e as Error).message}` };
    }
  }, options);
}

/** The app's passkey sign-in in the page: options and finish through the sign-in API on rp.example.com (CORS). */
function signInFrom(page: Page, wid: string): Promise<{ ok: boolean; value: string }> {
  return page.evaluate(
    async ({ api }) => {
      const post = async (path: string, body: unknown) => {
        const res = await fetch(`${api}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      try {
        const opts = await post("/login/webauthn/options", {});
        const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(opts.body.publicKey as PublicKeyCredentialRequestOptionsJSON);
        const cred = (await navigator.credentials.get({ publicKey })) as PublicKeyCredential;
        const done = await post("/login/webauthn/finish", { login_id: opts.body.login_id, credential: cred.toJSON() });
        const out = done.status === 200 && typeof done.body.access_token === "string" ? "signed in" : `finish ${done.status}`;
        document.getElementById("out")!.textContent = out;
        return { ok: done.status === 200, value: out };
      } catch (e) {
        const out = `${(e as Error).name}: ${(e as Error).message}`;
        document.getElementById("out")!.textContent = out;
        return { ok: false, value: out };
      }
    },
    { api: `https://${RP_ID}/default/${wid}` },
  );
}

describe("related origins in chromium", () => {
  it("serves the list at https://rp.example.com/.well-known/webauthn through the front", async () => {
    await world();
    const { page } = await appPage(RELATED);
    // In the browser (its resolver rules and certificate): the answer chromium reads before a related-origin ceremony.
    const answer = await page.goto(`https://${RP_ID}/.well-known/webauthn`);
    if (!answer) throw new Error("no response for the well-known");
    expect(answer.status()).toBe(200);
    expect(answer.headers()["content-type"]).toMatch(/^application\/json/);
    expect(((await answer.json()) as { origins: string[] }).origins).toContain(RELATED);
    await page.context().close();
  });

  it("a passkey for rp.example.com is created and used on https://example.co.uk", async () => {
    const w = await world();
    const app = await appPage(RELATED);
    const { publicKey } = await sysApi<{ publicKey: { rp: { id: string } } }>(
      "POST",
      `/pools/${w.poolId}/users/${w.userId}/usernameless-webauthn/create/begin`,
    );
    expect(publicKey.rp.id).toBe(RP_ID);
    const created = await createIn(app.page, publicKey);
    expect(created.ok, String(created.value)).toBe(true);
    await sysApi("POST", `/pools/${w.poolId}/users/${w.userId}/usernameless-webauthn/create/complete`, created.value);
    const creds = (await app.cdp.send("WebAuthn.getCredentials", { authenticatorId: app.authenticatorId })).credentials;
    expect(creds.map((c) => c.rpId)).toEqual([RP_ID]);

    const signedIn = await signInFrom(app.page, w.wid);
    expect(signedIn).toEqual({ ok: true, value: "signed in" });
    expect(app.errors).toEqual([]);
    await shot(app.page, "related-origins-app-signed-in");
    await app.page.context().close();
  });

  it("chromium refuses rp.example.com on https://unlisted.example.org, after reading the service's list", async () => {
    const w = await world();
    const app = await appPage(UNLISTED);
    const { publicKey } = await sysApi("POST", `/pools/${w.poolId}/users/${w.userId}/usernameless-webauthn/create/begin`);
    const created = await createIn(app.page, publicKey);
    expect(created.ok).toBe(false);
    expect(String(created.value)).toMatch(/^SecurityError: .*no listed origin matched the caller/);
    // The sign-in API gives this origin no CORS either: the page's fetch of the options fails before any prompt.
    const signIn = await signInFrom(app.page, w.wid);
    expect(signIn).toEqual({ ok: false, value: "TypeError: Failed to fetch" });
    await shot(app.page, "related-origins-unlisted-refused");
    await app.page.context().close();
  });
});

describe("the console's Passkey Settings", () => {
  let admin: AuthPage;
  beforeAll(async () => {
    admin = await signedInAdmin(browser, "related-admin");
  });
  afterAll(async () => admin?.page.context().close());

  it("explains related origins, shows the well-known URL and its list, and refuses a sixth domain at the field", async () => {
    const w = await world();
    const { page } = admin;
    await page.goto(`${BASE}/default/admin#/pools/${w.poolId}`);
    const card = page.locator("#passkey-card");
    await card.getByRole("heading", { name: "Passkey Settings" }).waitFor();
    const origins = card.getByLabel("Origins", { exact: true });
    expect(await origins.getAttribute("aria-describedby")).toContain("rp-origins-hint");
    expect(await card.locator("#rp-origins-hint").textContent()).toContain(
      "An origin on another domain, e.g. https://example.co.uk for RP ID example.com, is published at https://example.com/.well-known/webauthn so browsers let it use these passkeys; this server must answer for example.com",
    );
    const related = card.getByRole("region", { name: "Related origins" });
    const url = `https://${RP_ID}/.well-known/webauthn`;
    expect(await related.getByRole("link", { name: url }).getAttribute("href")).toBe(url);
    expect(await related.getByRole("list", { name: `Origins listed at ${url}` }).textContent()).toContain(RELATED);
    await shot(page, "related-origins-console");

    // Add a second related origin: saved, and the list follows.
    await origins.fill([`https://${RP_ID}`, RELATED, "https://example.de"].join("\n"));
    await card.getByRole("button", { name: "Save passkey settings" }).click();
    await poll(() => related.getByRole("list").textContent()).toContain("https://example.de");

    // Six other domains: the 422 at the field, focused, and the saved list unchanged.
    const six = ["co.uk", "de", "fr", "it", "es", "nl"].map((tld) => `https://example.${tld}`);
    await origins.fill(six.join("\n"));
    await card.getByRole("button", { name: "Save passkey settings" }).click();
    await poll(() => card.locator("#rp-origins-error").textContent()).toContain("at most 5 domains");
    expect(await origins.getAttribute("aria-invalid")).toBe("true");
    await poll(() => page.evaluate(() => document.activeElement?.id)).toBe("rp-origins");
    expect(await related.getByRole("list").textContent()).not.toContain("example.nl");
    await shot(page, "related-origins-console-too-many");
  });
});
