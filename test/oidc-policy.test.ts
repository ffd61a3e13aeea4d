import { describe, expect, it } from "vitest";
import { s256, verifyPkce } from "../src/crypto/pkce";
import {
  type AuthorizeClient,
  authenticationFacts,
  CLIENT_DEFAULTS,
  checkAuthorizationRequest,
  checkRedirectUri,
  decideSession,
  mergeClient,
  type ProvenFactor,
  parsePrompt,
  type SessionDecisionInput,
  scopesCovered,
} from "../src/domain/oidc";

describe("redirect URIs", () => {
  it.each([
    "https://app.example.com/callback",
    "https://app.example.com:8443/cb?x=1",
    "http://localhost/cb",
    "http://localhost:3000/cb",
    "http://127.0.0.1:49152/callback",
    "http://[::1]:8080/cb",
    "com.example.app:/oauth2redirect",
    "com.example.app:/",
  ])("accepts %s", (uri) => {
    expect(checkRedirectUri(uri)).toEqual({ ok: true, value: uri });
  });

  it.each([
    ["", "1 to 2000"],
    ["/relative/path", "absolute URI"],
    ["app.example.com/cb", "absolute URI"],
    ["https://app.example.com/cb#frag", "fragment"],
    ["https://app.example.com/cb#", "fragment"],
    ["javascript:alert(1)", "javascript: scheme"],
    ["JavaScript:alert(1)", "javascript: scheme"],
    ["data:text/html,<script>1</script>", "data: scheme"],
    ["file:///etc/passwd", "file: scheme"],
    ["vbscript:msgbox", "vbscript: scheme"],
    ["http://app.example.com/cb", "http is allowed only for localhost"],
    ["http://localhost.example.com/cb", "http is allowed only for localhost"],
    ["http://127.0.0.2/cb", "http is allowed only for localhost"],
    ["https:app.example.com/cb", "https://host"],
    ["https://user:pw@app.example.com/cb", "credentials"],
    ["https://app.example.com/ cb", "whitespace"],
    ["https://app.example.com\\@evil.com/", "backslashes"],
    ["myapp:/cb", "reverse-domain"],
    ["ftp://files.example.com/cb", "reverse-domain"],
    ["com.example.app://cb", "single slash"],
    ["com.example.app:cb", "single slash"],
    [`https://app.example.com/${"a".repeat(2000)}`, "1 to 2000"],
  ])("refuses %s (%s)", (uri, reason) => {
    const r = checkRedirectUri(uri, "post_logout_redirect_uris");
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe("post_logout_redirect_uris");
      expect(r.message).toContain(reason);
    }
  });
});

describe("client registration", () => {
  const base = { redirect_uris: ["https://app.example.com/cb"] };

  it("applies RFC 7591 defaults (ID tokens RS256, not trusted) and removes duplicates", () => {
    expect(mergeClient(CLIENT_DEFAULTS, { ...base, client_name: "  App  ", scopes: ["openid", "email", "openid"] })).toEqual({
      ok: true,
      value: {
        clientName: "App",
        redirectUris: ["https://app.example.com/cb"],
        postLogoutRedirectUris: [],
        grantTypes: ["authorization_code"],
        tokenEndpointAuthMethod: "client_secret_basic",
        scopes: ["openid", "email"],
        idTokenAlg: "RS256",
        trusted: false,
      },
    });
  });

  it("merges an update over the stored settings: absent fields keep their values", () => {
    const stored = mergeClient(CLIENT_DEFAULTS, { ...base, grant_types: ["authorization_code", "refresh_token"], trusted: true });
    if (!stored.ok) throw new Error("setup");
    const updated = mergeClient(stored.value, { id_token_signed_response_alg: "ES256", token_endpoint_auth_method: "none" });
    expect(updated).toEqual({ ok: true, value: { ...stored.value, idTokenAlg: "ES256", tokenEndpointAuthMethod: "none" } });
  });

  it.each([
    [{}, "redirect_uris", "at least one"],
    [{ redirect_uris: [] }, "redirect_uris", "at least one"],
    [{ redirect_uris: ["javascript:alert(1)"] }, "redirect_uris", "javascript"],
    [{ redirect_uris: Array.from({ length: 21 }, (_, i) => `https://a.example.com/${i}`) }, "redirect_uris", "at most 20"],
    [{ ...base, post_logout_redirect_uris: ["http://example.com/bye"] }, "post_logout_redirect_uris", "https"],
    [{ ...base, grant_types: ["client_credentials"] }, "grant_types", "not one of"],
    [{ ...base, grant_types: ["implicit"] }, "grant_types", "not one of"],
    [{ ...base, grant_types: ["refresh_token"] }, "grant_types", "authorization_code"],
    [{ ...base, grant_types: [] }, "grant_types", "authorization_code"],
    [{ ...base, token_endpoint_auth_method: "private_key_jwt" }, "token_endpoint_auth_method", "not one of"],
    [{ ...base, scopes: ["profile"] }, "scopes", "openid"],
    [{ ...base, scopes: ["openid", "identity"] }, "scopes", "identity"],
    [{ ...base, id_token_signed_response_alg: "HS256" }, "id_token_signed_response_alg", "not one of"],
    [{ ...base, id_token_signed_response_alg: "none" }, "id_token_signed_response_alg", "not one of"],
    [{ ...base, client_name: "x".repeat(201) }, "client_name", "200"],
  ])("refuses %j: 422 naming %s", (input, field, message) => {
    const r = mergeClient(CLIENT_DEFAULTS, input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toContain(message);
      expect(r.code).toBeUndefined(); // the default 422, invalid_configuration
    }
  });
});

describe("authorization request", () => {
  const client: AuthorizeClient = {
    clientId: "app",
    redirectUris: ["https://app.example.com/cb", "http://127.0.0.1:4000/cb"],
    scopes: ["openid", "profile", "email", "offline_access"],
  };
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
  const good = {
    client_id: "app",
    redirect_uri: "https://app.example.com/cb",
    response_type: "code",
    scope: "openid email",
    state: "st-1",
    nonce: "n-1",
    code_challenge: challenge,
    code_challenge_method: "S256",
  };
  const params = (p: Record<string, string | null>, extra: [string, string][] = []) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(p)) if (v !== null) q.append(k, v);
    for (const [k, v] of extra) q.append(k, v);
    return q;
  };

  it("accepts a complete request and parses prompt, max_age, acr_values and login_hint", () => {
    const r = checkAuthorizationRequest(
      params({ ...good, prompt: "login consent", max_age: "0", acr_values: "urn:other phrh phr", login_hint: " ada@example.com " }),
      client,
    );
    expect(r).toEqual({
      ok: true,
      value: {
        clientId: "app",
        redirectUri: "https://app.example.com/cb",
        scopes: ["openid", "email"],
        state: "st-1",
        nonce: "n-1",
        codeChallenge: challenge,
        prompt: ["login", "consent"],
        maxAge: 0,
        acrValues: ["phrh", "phr"],
        loginHint: "ada@example.com",
      },
    });
    const minimal = checkAuthorizationRequest(params({ ...good, state: null, nonce: null }), client);
    expect(minimal).toMatchObject({
      ok: true,
      value: { state: null, nonce: null, prompt: [], maxAge: null, acrValues: [], loginHint: null },
    });
  });

  // Before client_id and redirect_uri are validated: render, never redirect.
  it.each([
    ["no client_id", params({ ...good, client_id: null }), "client_id", "invalid_request"],
    ["a repeated client_id", params(good, [["client_id", "app"]]), "client_id", "invalid_request"],
    ["a malformed client_id", params({ ...good, client_id: "a b" }), "client_id", "invalid_request"],
    ["an unknown client", params({ ...good, client_id: "ghost" }), "client_id", "invalid_client"],
    ["no redirect_uri", params({ ...good, redirect_uri: null }), "redirect_uri", "invalid_request"],
    ["a repeated redirect_uri", params(good, [["redirect_uri", "https://app.example.com/cb"]]), "redirect_uri", "invalid_request"],
    ["an unregistered redirect_uri", params({ ...good, redirect_uri: "https://evil.example.com/cb" }), "redirect_uri", "invalid_request"],
    [
      "a redirect_uri that differs by a slash",
      params({ ...good, redirect_uri: "https://app.example.com/cb/" }),
      "redirect_uri",
      "invalid_request",
    ],
    [
      "a redirect_uri that differs by a query",
      params({ ...good, redirect_uri: "https://app.example.com/cb?x" }),
      "redirect_uri",
      "invalid_request",
    ],
    [
      "a redirect_uri that differs by case",
      params({ ...good, redirect_uri: "https://APP.example.com/cb" }),
      "redirect_uri",
      "invalid_request",
    ],
    // Even with other errors present, the render errors come first.
    ["no client_id and a bad response_type", params({ ...good, client_id: null, response_type: "token" }), "client_id", "invalid_request"],
  ])("renders (never redirects) %s", (_name, q, field, error) => {
    const r = checkAuthorizationRequest(q, q.get("client_id") === "ghost" ? undefined : client);
    expect(r).toMatchObject({ ok: false, redirect: false, field, error });
    expect(r).not.toHaveProperty("redirectUri");
  });

  // After: redirect with error, error_description and state.
  it.each([
    ["a repeated scope", params(good, [["scope", "openid"]]), "scope", "invalid_request"],
    ["a request object", params({ ...good, request: "eyJ..." }), "request", "request_not_supported"],
    ["a request_uri", params({ ...good, request_uri: "https://x" }), "request_uri", "request_uri_not_supported"],
    ["a registration parameter", params({ ...good, registration: "{}" }), "registration", "registration_not_supported"],
    ["no response_type", params({ ...good, response_type: null }), "response_type", "invalid_request"],
    ["response_type token", params({ ...good, response_type: "token" }), "response_type", "unsupported_response_type"],
    ["response_type code id_token", params({ ...good, response_type: "code id_token" }), "response_type", "unsupported_response_type"],
    ["response_mode fragment", params({ ...good, response_mode: "fragment" }), "response_mode", "invalid_request"],
    ["no scope", params({ ...good, scope: null }), "scope", "invalid_scope"],
    ["a scope without openid", params({ ...good, scope: "profile" }), "scope", "invalid_scope"],
    ["a scope the client lacks", params({ ...good, scope: "openid manage_ss_profile" }), "scope", "invalid_scope"],
    ["no code_challenge", params({ ...good, code_challenge: null }), "code_challenge", "invalid_request"],
    ["no code_challenge_method (plain)", params({ ...good, code_challenge_method: null }), "code_challenge_method", "invalid_request"],
    ["code_challenge_method plain", params({ ...good, code_challenge_method: "plain" }), "code_challenge_method", "invalid_request"],
    ["a short code_challenge", params({ ...good, code_challenge: challenge.slice(1) }), "code_challenge", "invalid_request"],
    [
      "a code_challenge of 33 bytes",
      params({ ...good, code_challenge: `${challenge.slice(0, 42)}N` }),
      "code_challenge",
      "invalid_request",
    ],
    ["an unknown prompt", params({ ...good, prompt: "select_account" }), "prompt", "invalid_request"],
    ["prompt none with login", params({ ...good, prompt: "none login" }), "prompt", "invalid_request"],
    ["a negative max_age", params({ ...good, max_age: "-1" }), "max_age", "invalid_request"],
    ["a fractional max_age", params({ ...good, max_age: "1.5" }), "max_age", "invalid_request"],
    ["a long nonce", params({ ...good, nonce: "n".repeat(513) }), "nonce", "invalid_request"],
    ["a long login_hint", params({ ...good, login_hint: "h".repeat(257) }), "login_hint", "invalid_request"],
  ])("redirects with an error for %s", (_name, q, field, error) => {
    expect(checkAuthorizationRequest(q, client)).toMatchObject({
      ok: false,
      redirect: true,
      redirectUri: "https://app.example.com/cb",
      state: "st-1",
      field,
      error,
    });
  });

  it("redirects without state when state is repeated or too long", () => {
    for (const q of [params(good, [["state", "again"]]), params({ ...good, state: "s".repeat(2049) })]) {
      expect(checkAuthorizationRequest(q, client)).toMatchObject({ ok: false, redirect: true, field: "state", state: null });
    }
  });

  it("parses prompt alone", () => {
    expect(parsePrompt(null)).toEqual({ ok: true, value: [] });
    expect(parsePrompt("none")).toEqual({ ok: true, value: ["none"] });
    expect(parsePrompt("consent  login")).toEqual({ ok: true, value: ["consent", "login"] });
    expect(parsePrompt("none consent")).toMatchObject({ ok: false, field: "prompt" });
  });
});

describe("the session decision", () => {
  const now = 1_800_000_000_000;
  const requestedAt = now - 5_000;
  const session = { authTime: now - 3_600_000, amr: ["pop", "hwk", "user"], acr: "phrh" as const };
  const base: SessionDecisionInput = { session, prompt: [], maxAge: null, acrValues: [], requestedAt, consent: "trusted", now };

  it.each<[string, Partial<SessionDecisionInput>, ReturnType<typeof decideSession>]>([
    ["a usable session and a trusted client", {}, { action: "issue" }],
    ["a remembered consent", { consent: "remembered" }, { action: "issue" }],
    ["no session", { session: null }, { action: "signin", reason: "no_session" }],
    ["no session, prompt=none", { session: null, prompt: ["none"] }, { action: "error", error: "login_required", reason: "no_session" }],
    ["prompt=login with an older sign-in", { prompt: ["login"] }, { action: "signin", reason: "prompt_login" }],
    [
      "prompt=login after signing in for this request",
      { prompt: ["login"], session: { ...session, authTime: requestedAt } },
      { action: "issue" },
    ],
    ["max_age exceeded", { maxAge: 3599 }, { action: "signin", reason: "max_age" }],
    ["max_age exactly met", { maxAge: 3600 }, { action: "issue" }],
    ["max_age=0 with an older sign-in", { maxAge: 0 }, { action: "signin", reason: "max_age" }],
    ["max_age=0 after signing in for this request", { maxAge: 0, session: { ...session, authTime: requestedAt + 1 } }, { action: "issue" }],
    ["max_age exceeded, prompt=none", { maxAge: 60, prompt: ["none"] }, { action: "error", error: "login_required", reason: "max_age" }],
    ["acr phrh met", { acrValues: ["phrh"] }, { action: "issue" }],
    ["acr phr met by phrh", { acrValues: ["phr"] }, { action: "issue" }],
    ["acr phrh not met by phr", { acrValues: ["phrh"], session: { ...session, acr: "phr" } }, { action: "signin", reason: "acr" }],
    ["acr phrh or phr met by phr", { acrValues: ["phrh", "phr"], session: { ...session, acr: "phr" } }, { action: "issue" }],
    ["acr phr not met by a password", { acrValues: ["phr"], session: { ...session, acr: null } }, { action: "signin", reason: "acr" }],
    [
      "acr not met, prompt=none",
      { acrValues: ["phrh"], session: { ...session, acr: "phr" }, prompt: ["none"] },
      { action: "error", error: "login_required", reason: "acr" },
    ],
    ["an untrusted client without consent", { consent: "missing" }, { action: "consent" }],
    ["no consent, prompt=none", { consent: "missing", prompt: ["none"] }, { action: "error", error: "consent_required" }],
    ["prompt=consent with a remembered consent", { consent: "remembered", prompt: ["consent"] }, { action: "consent" }],
    ["prompt=consent with a trusted client", { prompt: ["consent"] }, { action: "consent" }],
    ["prompt=consent after consent in this request", { consent: "given", prompt: ["consent"] }, { action: "issue" }],
    ["sign-in comes before consent", { session: null, consent: "missing" }, { action: "signin", reason: "no_session" }],
  ])("%s", (_name, input, expected) => {
    expect(decideSession({ ...base, ...input })).toEqual(expected);
  });
});

describe("amr and acr of a sign-in", () => {
  const deviceUv: ProvenFactor = { kind: "passkey", backupEligible: false, userVerified: true };
  const device: ProvenFactor = { kind: "passkey", backupEligible: false, userVerified: false };
  const syncedUv: ProvenFactor = { kind: "passkey", backupEligible: true, userVerified: true };
  const synced: ProvenFactor = { kind: "passkey", backupEligible: true, userVerified: false };
  const password: ProvenFactor = { kind: "password" };

  it.each<[string, ProvenFactor[], string[], string | null]>([
    ["device-bound passkey with UV", [deviceUv], ["pop", "hwk", "user"], "phrh"],
    ["device-bound passkey without UV", [device], ["pop", "hwk"], "phr"],
    ["synced passkey with UV", [syncedUv], ["pop", "swk", "user"], "phr"],
    ["synced passkey without UV", [synced], ["pop", "swk"], "phr"],
    ["password only", [password], ["pwd"], null],
    ["password then device-bound passkey with UV", [password, deviceUv], ["pwd", "pop", "hwk", "user", "mfa"], "phrh"],
    ["password then synced passkey", [password, synced], ["pwd", "pop", "swk", "mfa"], "phr"],
  ])("%s", (_name, factors, amr, acr) => {
    expect(authenticationFacts(factors)).toEqual({ amr, acr });
  });
});

describe("PKCE S256 and scopes", () => {
  // RFC 7636 Appendix B.
  const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
  const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

  it("computes and verifies the RFC 7636 example", async () => {
    expect(await s256(verifier)).toBe(challenge);
    expect(await verifyPkce(verifier, challenge)).toBe(true);
    expect(await verifyPkce(verifier, challenge.replace("E9", "E8"))).toBe(false);
    expect(await verifyPkce(`${verifier}x`, challenge)).toBe(false);
  });

  it.each([
    ["42 characters", "a".repeat(42)],
    ["129 characters", "a".repeat(129)],
    ["a character outside the alphabet", `${"a".repeat(42)}+`],
    ["a space", `${"a".repeat(42)} `],
  ])("refuses a verifier with %s", async (_name, v) => {
    expect(await s256(v)).toBeNull();
    expect(await verifyPkce(v, challenge)).toBe(false);
  });

  it("accepts the whole alphabet at both length bounds", async () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";
    for (const v of [alphabet.slice(0, 43), alphabet.repeat(2).slice(0, 128)]) {
      const c = await s256(v);
      expect(c).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await verifyPkce(v, c!)).toBe(true);
    }
  });

  it("covers a request with a remembered scope set", () => {
    expect(scopesCovered(["email", "openid", "profile"], ["openid", "email"])).toBe(true);
    expect(scopesCovered(["openid"], ["openid", "email"])).toBe(false);
  });
});
