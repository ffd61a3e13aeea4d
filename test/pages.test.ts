/** Hosted sign-in and portal pages through the Worker (SELF.fetch): HTML, headers, page data; and their pure browser logic. */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { needsReauth, REAUTH_AFTER_SECONDS, withRecentAuth } from "../src/client/lib/portal-reauth";
import { LAST_PASSKEY_REASON, nameProblem, passkeyViews, type CredentialJson } from "../src/client/lib/passkey-view";
import { NOT_ENROLLED, SIGNIN_FAILED, signinMessage } from "../src/client/lib/signin-messages";
import { json, ORIGIN, sys, uid } from "./helpers/api";
import { newPool } from "./helpers/passkeys";
import { newWorkspace, setup } from "./helpers/signin";

const get = (path: string) => SELF.fetch(`${ORIGIN}${path}`);

/** The attributes of the first tag matching `tag` (name → value, entities left as they are). */
function attrs(tagSource: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tagSource.matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:="([^"]*)")?/g)) out[m[1]!] = m[2] ?? "";
  return out;
}

const tags = (html: string, name: string) => [...html.matchAll(new RegExp(`<${name}\\b([^>]*)>`, "g"))].map((m) => attrs(m[1]!));
const bodyData = (html: string) => {
  const body = tags(html, "body")[0]!;
  return Object.fromEntries(
    Object.entries(body)
      .filter(([k]) => k.startsWith("data-"))
      .map(([k, v]) => [k.slice(5), v]),
  );
};

/** Headers and markup every hosted page must have: strict CSP, no framing, no inline script or style, labelled fields. */
function expectSafePage(res: Response, html: string) {
  expect(res.headers.get("content-type")).toMatch(/^text\/html/);
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("script-src 'self'");
  expect(csp).toContain("style-src 'self'");
  expect(csp).not.toContain("unsafe-inline");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  expect(res.headers.get("cache-control")).toBe("no-store");
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  for (const script of tags(html, "script")) expect(script.src, "no inline <script>").toMatch(/^\/assets\/js\/[a-z-]+\.js$/);
  expect(html).not.toMatch(/<[^>]+\sstyle="/);
  expect(html).not.toMatch(/<[^>]+\son[a-z]+="/);
  expectLabelled(html);
}

/** Every <input> has an id and a <label for> naming it. */
function expectLabelled(html: string) {
  const labels = new Set(tags(html, "label").map((l) => l.for));
  for (const input of tags(html, "input")) {
    expect(input.id, `input without id: ${JSON.stringify(input)}`).toBeTruthy();
    expect(labels.has(input.id!), `no <label for="${input.id}">`).toBe(true);
  }
}

async function page(path: string, status = 200) {
  const res = await get(path);
  const html = await res.text();
  expect(res.status, html.slice(0, 300)).toBe(status);
  expectSafePage(res, html);
  return html;
}

describe("sign-in page GET /{tid}/{wid}/login", () => {
  it("serves the seeded Smart + password workspace with a strict CSP, the signin bundle and the mode in data-*", async () => {
    const html = await page("/default/default/login");
    expect(html).toContain('<script type="module" src="/assets/js/signin.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/assets/app.css"/>');
    expect(bodyData(html)).toEqual({ tid: "default", wid: "default", mode: "smart", methods: "passkey password", preferred: "passkey" });
    expect(html).toMatch(/<h1>Sign in<\/h1>/);
    expect(html).toContain("Sign in with a passkey");
    // Passkey autofill: the username field offers passkeys (conditional mediation).
    expect(tags(html, "input").find((i) => i.id === "identifier")).toMatchObject({ autocomplete: "username webauthn" });
    expect(tags(html, "input").find((i) => i.id === "password")).toMatchObject({ type: "password", autocomplete: "current-password" });
    // Passkey first (preferred), then the password.
    expect(html.indexOf("Sign in with a passkey")).toBeLessThan(html.indexOf('id="password"'));
    expect(html).toMatch(/<p id="status" role="status" aria-live="polite"><\/p>/);
    expect(html).toContain('id="second-factor"');
  });

  it("Classic mode asks for the username first, with no passkey autofill; password preferred comes first", async () => {
    const pool = await newPool({ authentication_mechanisms: ["webauthn", "password"], preferred_authentication_mechanism: "password" });
    const wid = await newWorkspace(["webauthn", "password"], [pool]);
    const html = await page(`/default/${wid}/login`);
    expect(bodyData(html)).toMatchObject({ mode: "classic", methods: "password passkey", preferred: "password" });
    expect(tags(html, "input").find((i) => i.id === "identifier")).toMatchObject({ autocomplete: "username" });
    expect(html).toContain("Continue with a passkey");
    expect(html.indexOf('id="password"')).toBeLessThan(html.indexOf("Continue with a passkey"));
  });

  it("a password-only workspace shows no passkey button; one without any method says so", async () => {
    const pool = await newPool({ authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] });
    const wid = await newWorkspace(["password"], [pool]);
    const html = await page(`/default/${wid}/login`);
    expect(bodyData(html)).toMatchObject({ mode: "", methods: "password", preferred: "password" });
    expect(html).not.toContain('id="passkey-button"');
    expect(html).toContain('id="password"');

    const none = await newWorkspace(["email_otp"], [await newPool({ authentication_mechanisms: ["email_otp"] })]);
    const empty = await page(`/default/${none}/login`);
    expect(bodyData(empty)).toMatchObject({ methods: "", preferred: "" });
    expect(empty).toContain("No sign-in method is available");
  });

  it("renders the same mode and method order as GET /login/config", async () => {
    const cases = [
      { wid: "default" },
      { wid: (await setup("classic", { preferred_authentication_mechanism: "password" })).wid },
      { wid: (await setup("smart")).wid },
      {
        wid: await newWorkspace(
          ["password", "usernameless_webauthn"],
          [await newPool({ authentication_mechanisms: ["webauthn", "password"] })],
        ),
      },
    ];
    for (const { wid } of cases) {
      const cfg = await json<{ passkey_mode: string | null; methods: string[]; preferred: string }>(
        await get(`/default/${wid}/login/config`),
      );
      const d = bodyData(await page(`/default/${wid}/login`));
      const asPage = (m: string) => (m === "webauthn" || m === "usernameless_webauthn" ? "passkey" : m);
      expect(d.mode).toBe(cfg.passkey_mode ?? "");
      expect(d.methods).toBe(cfg.methods.map(asPage).join(" "));
      expect(d.preferred).toBe(asPage(cfg.preferred));
    }
  });

  it("escapes the workspace name", async () => {
    const res = await sys("POST", "/workspaces", {
      body: {
        name: `<img src=x onerror="alert(1)"> & co`,
        authentication_mechanisms: ["usernameless_webauthn"],
        identity_pools: ["default"],
      },
    });
    const { id } = await json<{ id: string }>(res, 201);
    const html = await page(`/default/${id}/login`);
    expect(html).toContain("&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co");
    expect(html).not.toContain("<img");
  });

  it("answers 404 in the same layout for an unknown workspace, tenant or malformed id", async () => {
    for (const path of [
      `/default/${uid("nows")}/login`,
      `/${uid("noten")}/default/login`,
      "/default/bad.id/login",
      "/default/admin-x/login",
    ]) {
      const html = await page(path, 404);
      expect(html).toContain('<link rel="stylesheet" href="/assets/app.css"/>');
      expect(html).toMatch(/We can(&#39;|')t find this page/);
      expect(html).not.toContain("<script");
    }
  });
});

describe("portal GET /{tid}/{wid}/account", () => {
  it("serves the shell with the account bundle, the mode and the pools that can confirm with a passkey", async () => {
    const html = await page("/default/default/account");
    expect(html).toContain('<script type="module" src="/assets/js/account.js"></script>');
    expect(bodyData(html)).toEqual({ tid: "default", wid: "default", mode: "smart", "reauth-pools": "default" });
    expect(html).toContain("<h1>Your account</h1>");
    expect(html).toMatch(/<dialog id="delete-dialog"/);
    expect(html).toContain('<caption class="visually-hidden">Your passkeys</caption>');
    // Nothing personal is rendered by the server.
    expect(html).not.toContain("@example.com");
    // "Sign in again" returns here.
    expect(html).toContain('href="/default/default/login?return_to=%2Fdefault%2Fdefault%2Faccount"');
  });

  it("a pool with a passkey second factor cannot confirm with a passkey alone", async () => {
    const twoFactor = await newPool({ authentication_mechanisms: ["password"], second_factor_authentication_mechanisms: ["webauthn"] });
    const wid = await newWorkspace(["webauthn", "password"], ["default", twoFactor]);
    expect(bodyData(await page(`/default/${wid}/account`))).toMatchObject({ mode: "classic", "reauth-pools": "default" });
  });

  it("answers 404 for an unknown workspace", async () => {
    expect(await page(`/default/${uid("nows")}/account`, 404)).toMatch(/We can(&#39;|')t find this page/);
  });
});

describe("portal re-authentication rule (pure)", () => {
  it("asks for a passkey when the sign-in is older than 290 s", () => {
    expect(REAUTH_AFTER_SECONDS).toBe(290);
    expect(needsReauth(0)).toBe(false);
    expect(needsReauth(290)).toBe(false);
    expect(needsReauth(291)).toBe(true);
    expect(needsReauth(Number.NaN)).toBe(true);
  });

  const stepUp = Object.assign(new Error("sign in again"), { status: 401, code: "insufficient_user_authentication" });

  function harness(recent: boolean, failures: unknown[] = []) {
    const log: string[] = [];
    const auth = { isRecent: () => recent, reauth: async () => void log.push("reauth") };
    const change = async () => {
      log.push("change");
      const f = failures.shift();
      if (f) throw f;
      return "ok";
    };
    return { log, run: () => withRecentAuth(auth, change) };
  }

  it("a recent sign-in runs the change at once", async () => {
    const h = harness(true);
    expect(await h.run()).toBe("ok");
    expect(h.log).toEqual(["change"]);
  });

  it("an old sign-in confirms first, then carries on with the change", async () => {
    const h = harness(false);
    expect(await h.run()).toBe("ok");
    expect(h.log).toEqual(["reauth", "change"]);
  });

  it("401 insufficient_user_authentication: confirms and retries once, then gives up", async () => {
    const once = harness(true, [stepUp]);
    expect(await once.run()).toBe("ok");
    expect(once.log).toEqual(["change", "reauth", "change"]);

    const twice = harness(true, [stepUp, stepUp]);
    await expect(twice.run()).rejects.toBe(stepUp);
    expect(twice.log).toEqual(["change", "reauth", "change"]);
  });

  it("other failures are not retried; a cancelled confirmation stops the change", async () => {
    const other = Object.assign(new Error("x"), { status: 409, code: "last_credential" });
    const h = harness(true, [other]);
    await expect(h.run()).rejects.toBe(other);
    expect(h.log).toEqual(["change"]);

    const log: string[] = [];
    const cancelled = new Error("cancelled");
    const auth = {
      isRecent: () => false,
      reauth: async () => {
        throw cancelled;
      },
    };
    await expect(withRecentAuth(auth, async () => void log.push("change"))).rejects.toBe(cancelled);
    expect(log).toEqual([]);
  });
});

describe("portal and sign-in wording (pure)", () => {
  const cred = (over: Partial<CredentialJson> & { payload?: CredentialJson["payload"] }): CredentialJson => ({
    id: "c1",
    type: "webauthn",
    name: null,
    created_at: "2026-01-02T03:04:05.000Z",
    last_used_at: null,
    payload: { credential_id: "AAAA", transport: ["internal"], flags: { backupEligible: false }, authenticator: { name: null } },
    ...over,
  });

  it("shows unnamed passkeys, unknown authenticators, sync and 'Never', and leaves out the password", () => {
    const [a, b, ...rest] = passkeyViews(
      [
        cred({}),
        cred({
          id: "c2",
          name: "Work laptop",
          last_used_at: "2026-01-03T00:00:00.000Z",
          payload: { credential_id: "BBBB", flags: { backupEligible: true }, authenticator: { name: "iCloud Keychain" } },
        }),
        cred({ id: "p", type: "password", payload: {} }),
      ],
      "en-GB",
      "UTC",
    );
    expect(rest).toEqual([]);
    expect(a).toMatchObject({
      label: "Unnamed passkey",
      authenticator: "Unknown authenticator",
      sync: "Device-bound",
      lastUsed: null,
      credentialId: "AAAA",
    });
    expect(a!.created).toEqual({ iso: "2026-01-02T03:04:05.000Z", text: "2 Jan 2026, 03:04" });
    expect(b).toMatchObject({
      label: "Work laptop",
      authenticator: "iCloud Keychain",
      sync: "Synced",
      lastUsed: { iso: "2026-01-03T00:00:00.000Z" },
    });
    expect(LAST_PASSKEY_REASON).toBe("You can't remove your only passkey. Add another first.");
  });

  it("checks names like the API (1..64 characters after trimming)", () => {
    expect(nameProblem("  ")).toMatch(/Enter a name/);
    expect(nameProblem("x".repeat(65))).toMatch(/64/);
    expect(nameProblem(" Phone ")).toBeNull();
  });

  it("never says whether an account exists; explains a cancelled prompt and a missing second factor", () => {
    const api = (status: number, code: string) => Object.assign(new Error(code), { status, code });
    expect(signinMessage(api(401, "authentication_failed"))).toBe(SIGNIN_FAILED);
    expect(signinMessage(api(404, "not_found"))).toBe(SIGNIN_FAILED);
    expect(signinMessage(api(403, "second_factor_not_enrolled"))).toBe(NOT_ENROLLED);
    const cancelled = Object.assign(new Error("x"), { name: "NotAllowedError" });
    expect(signinMessage(cancelled, { passwordOffered: true })).toMatch(
      /cancelled or timed out.*No passkey on this device\? Sign in with your password/,
    );
    expect(signinMessage(new TypeError("Failed to fetch"))).toMatch(/couldn't reach the server/);
  });
});
