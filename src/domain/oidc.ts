/**
 * OpenID Connect policies (pure; ../shared/api.md "OpenID Connect" and "Clients"): client registration, the
 * authorization request in the contract's order, the session decision, and the amr/acr a sign-in proved. Every
 * function returns a result and never throws; no storage, no HTTP.
 */
import { fail, type Failure, type Result } from "./result";
import {
  type Acr,
  ACR_VALUES,
  type Amr,
  ID_TOKEN_ALGS,
  type IdTokenAlg,
  OIDC_CLIENT_SCOPES,
  OIDC_GRANT_TYPES,
  OIDC_PROMPTS,
  type OidcGrantType,
  type OidcPrompt,
  TOKEN_AUTH_METHODS,
  type TokenAuthMethod,
} from "./vocabulary";

const oneOf = <T extends string>(set: readonly T[], v: unknown): v is T => typeof v === "string" && (set as readonly string[]).includes(v);
const unique = <T>(xs: readonly T[]): T[] => [...new Set(xs)];

/** A scope parameter as a list: space separated, empty entries dropped, duplicates removed (order kept). */
export const parseScope = (scope: string): string[] => unique(scope.split(" ").filter(Boolean));

/** Whether every requested scope is among the granted ones (a remembered consent covers the request). */
export const scopesCovered = (granted: readonly string[], requested: readonly string[]): boolean =>
  requested.every((s) => granted.includes(s));

// ---------------------------------------------------------------------------------------------------------------
// Redirect URIs (RFC 6749 §3.1.2, RFC 8252 §7.1/§7.3, OAuth 2.0 Security BCP)

const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];
/** Schemes that run or read content instead of navigating back to an app: never a redirect target. */
const REFUSED_SCHEMES = ["javascript", "data", "file", "vbscript", "blob", "about", "filesystem", "view-source"];
/** RFC 8252 §7.1: a private-use scheme is a domain name the app controls, in reverse order (com.example.app). */
const REVERSE_DOMAIN = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;
const MAX_URI = 2000;

/** One redirect URI (or post-logout redirect URI) of a registration; `field` is named in the failure. */
export function checkRedirectUri(uri: string, field = "redirect_uris"): Result<string> {
  const bad = (reason: string) => fail(field, `"${uri.slice(0, 200)}" ${reason}`);
  if (uri.length === 0 || uri.length > MAX_URI) return bad(`must be 1 to ${MAX_URI} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here
  if (/[\s\u0000-\u001f\u007f\\]/.test(uri)) return bad("must not contain whitespace, control characters or backslashes");
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
  if (!scheme) return bad("must be an absolute URI with a scheme");
  if (uri.includes("#")) return bad("must not contain a fragment");
  if (REFUSED_SCHEMES.includes(scheme)) return bad(`uses the ${scheme}: scheme, which is never allowed`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return bad("is not a valid absolute URI");
  }
  if (url.username || url.password) return bad("must not contain credentials");
  if (scheme === "https" || scheme === "http") {
    if (!uri.slice(scheme.length + 1).startsWith("//") || url.hostname === "") return bad(`must be ${scheme}://host/...`);
    if (scheme === "http" && !LOOPBACK_HOSTS.includes(url.hostname)) {
      return bad("must use https; http is allowed only for localhost, 127.0.0.1 and [::1]");
    }
    return { ok: true, value: uri };
  }
  if (!REVERSE_DOMAIN.test(scheme)) {
    return bad("must use https, http for localhost, or a private-use scheme in reverse-domain form such as com.example.app:/callback");
  }
  const rest = uri.slice(scheme.length + 1);
  if (!rest.startsWith("/") || rest.startsWith("//")) {
    return bad("must have a single slash after a private-use scheme (RFC 8252 §7.1), e.g. com.example.app:/callback");
  }
  return { ok: true, value: uri };
}

// ---------------------------------------------------------------------------------------------------------------
// Client registration (RFC 7591 metadata names on the wire)

/** A client's registered settings, as stored (src/repo/oidc-clients.ts OidcClientSettings). */
export interface ClientSettings {
  clientName: string;
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  grantTypes: OidcGrantType[];
  tokenEndpointAuthMethod: TokenAuthMethod;
  scopes: string[];
  idTokenAlg: IdTokenAlg;
  trusted: boolean;
}

/** Registration metadata as sent (RFC 7591 names); absent fields keep the base's values. */
export interface ClientMetadataInput {
  client_name?: string;
  redirect_uris?: string[];
  post_logout_redirect_uris?: string[];
  grant_types?: string[];
  token_endpoint_auth_method?: string;
  scopes?: string[];
  id_token_signed_response_alg?: string;
  trusted?: boolean;
}

/** A new client's settings before its metadata applies (RFC 7591 defaults; ID tokens RS256). */
export const CLIENT_DEFAULTS: ClientSettings = {
  clientName: "",
  redirectUris: [],
  postLogoutRedirectUris: [],
  grantTypes: ["authorization_code"],
  tokenEndpointAuthMethod: "client_secret_basic",
  scopes: ["openid", "profile", "email"],
  idTokenAlg: "RS256",
  trusted: false,
};

const MAX_URIS = 20;

function checkUris(uris: string[], field: string, required: boolean): Result<string[]> {
  if (required && uris.length === 0) return fail(field, `${field} must list at least one URI`);
  if (uris.length > MAX_URIS) return fail(field, `${field} holds at most ${MAX_URIS} URIs`);
  for (const uri of uris) {
    const r = checkRedirectUri(uri, field);
    if (!r.ok) return r;
  }
  return { ok: true, value: unique(uris) };
}

function checkGrantsAndScopes(grants: string[], scopes: string[]): Failure | { grants: OidcGrantType[]; scopes: string[] } {
  const badGrant = grants.find((g) => !oneOf(OIDC_GRANT_TYPES, g));
  if (badGrant !== undefined) return fail("grant_types", `"${badGrant}" is not one of ${OIDC_GRANT_TYPES.join(", ")}`);
  if (!grants.includes("authorization_code")) return fail("grant_types", "grant_types must include authorization_code");
  const badScope = scopes.find((s) => !oneOf(OIDC_CLIENT_SCOPES, s));
  if (badScope !== undefined) return fail("scopes", `"${badScope}" is not one of ${OIDC_CLIENT_SCOPES.join(", ")}`);
  if (!scopes.includes("openid")) return fail("scopes", "scopes must include openid");
  return { grants: unique(grants) as OidcGrantType[], scopes: unique(scopes) };
}

/**
 * Applies registration metadata over `base` (CLIENT_DEFAULTS for a new client, the stored settings for an update)
 * and validates the result as a whole; a failure names the field (422 invalid_configuration).
 */
export function mergeClient(base: ClientSettings, input: ClientMetadataInput): Result<ClientSettings> {
  const name = (input.client_name ?? base.clientName).trim();
  if (name.length > 200) return fail("client_name", "client_name is at most 200 characters");
  const redirects = checkUris(input.redirect_uris ?? base.redirectUris, "redirect_uris", true);
  if (!redirects.ok) return redirects;
  const logouts = checkUris(input.post_logout_redirect_uris ?? base.postLogoutRedirectUris, "post_logout_redirect_uris", false);
  if (!logouts.ok) return logouts;
  const gs = checkGrantsAndScopes(input.grant_types ?? base.grantTypes, input.scopes ?? base.scopes);
  if ("ok" in gs) return gs;
  const method = input.token_endpoint_auth_method ?? base.tokenEndpointAuthMethod;
  if (!oneOf(TOKEN_AUTH_METHODS, method)) {
    return fail("token_endpoint_auth_method", `"${method}" is not one of ${TOKEN_AUTH_METHODS.join(", ")}`);
  }
  const alg = input.id_token_signed_response_alg ?? base.idTokenAlg;
  if (!oneOf(ID_TOKEN_ALGS, alg)) return fail("id_token_signed_response_alg", `"${alg}" is not one of ${ID_TOKEN_ALGS.join(", ")}`);
  return {
    ok: true,
    value: {
      clientName: name,
      redirectUris: redirects.value,
      postLogoutRedirectUris: logouts.value,
      grantTypes: gs.grants,
      tokenEndpointAuthMethod: method,
      scopes: gs.scopes,
      idTokenAlg: alg,
      trusted: input.trusted ?? base.trusted,
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636)

/** Errors of the authorization endpoint: rendered (before client and redirect_uri are known) or redirected. */
export type AuthorizeErrorCode =
  | "invalid_request"
  | "invalid_client"
  | "unsupported_response_type"
  | "invalid_scope"
  | "request_not_supported"
  | "request_uri_not_supported"
  | "registration_not_supported";

/**
 * A refused authorization request. `redirect: false`: render an error page (400), never redirect; `redirect: true`:
 * redirect to `redirectUri` with `error`, `error_description` (= message), `state` (when sent) and `iss`.
 */
export type AuthorizeFailure = Failure & { error: AuthorizeErrorCode } & (
    | { redirect: false }
    | { redirect: true; redirectUri: string; state: string | null }
  );

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  /** Requested scopes (openid among them), all registered for the client. */
  scopes: string[];
  state: string | null;
  nonce: string | null;
  /** The S256 code_challenge. */
  codeChallenge: string;
  prompt: OidcPrompt[];
  /** Seconds; null when not sent. */
  maxAge: number | null;
  /** The known acr values asked for, in order of preference (unknown values are ignored, as the voluntary claim allows). */
  acrValues: Acr[];
  /** Prefills the Classic identifier. */
  loginHint: string | null;
}

/** What the authorization request needs of its client. */
export interface AuthorizeClient {
  clientId: string;
  redirectUris: readonly string[];
  scopes: readonly string[];
}

export type AuthorizeResult = { ok: true; value: AuthorizationRequest } | AuthorizeFailure;

/** A client id as the service makes and accepts them (the path-id rule). */
export const CLIENT_ID_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** An S256 challenge: base64url of 32 bytes, 43 characters (the last one carries 4 bits). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;
/** Parameters that must not repeat (RFC 6749 §3.1). */
const SINGLE = [
  "client_id",
  "redirect_uri",
  "response_type",
  "response_mode",
  "scope",
  "state",
  "nonce",
  "code_challenge",
  "code_challenge_method",
  "prompt",
  "max_age",
  "acr_values",
  "login_hint",
];
const LIMITS = { state: 2048, nonce: 512, loginHint: 256 };

const render = (field: string, message: string, error: AuthorizeErrorCode = "invalid_request"): AuthorizeFailure => ({
  ...fail(field, message),
  error,
  redirect: false,
});

/** The client_id a request names (once, well formed), or the render-never-redirect failure: the service looks it up. */
export function authorizeClientId(params: URLSearchParams): { ok: true; value: string } | AuthorizeFailure {
  const ids = params.getAll("client_id");
  if (ids.length === 0) return render("client_id", "client_id is required");
  if (ids.length > 1) return render("client_id", "client_id must not be repeated");
  if (!CLIENT_ID_RE.test(ids[0]!)) return render("client_id", "client_id is malformed");
  return { ok: true, value: ids[0]! };
}

/**
 * Validates an authorization request in the contract's order. First client_id and redirect_uri (failures render and
 * never redirect: `client` is the client the service found for client_id, undefined when none); then everything else
 * (failures redirect with error and state). PKCE S256 is required for every client; response_type is `code` only.
 */
export function checkAuthorizationRequest(params: URLSearchParams, client: AuthorizeClient | undefined): AuthorizeResult {
  const id = authorizeClientId(params);
  if (!id.ok) return id;
  if (!client || client.clientId !== id.value) return render("client_id", "unknown client_id", "invalid_client");
  const redirects = params.getAll("redirect_uri");
  if (redirects.length !== 1)
    return render("redirect_uri", redirects.length ? "redirect_uri must not be repeated" : "redirect_uri is required");
  const redirectUri = redirects[0]!;
  if (!client.redirectUris.includes(redirectUri)) {
    return render("redirect_uri", "redirect_uri is not registered for this client (exact match)");
  }
  const states = params.getAll("state");
  const state = states.length === 1 && states[0]!.length <= LIMITS.state ? states[0]! : null;
  const refuse = (field: string, message: string, error: AuthorizeErrorCode = "invalid_request"): AuthorizeFailure => ({
    ...fail(field, message),
    error,
    redirect: true,
    redirectUri,
    state,
  });
  const repeated = SINGLE.find((p) => params.getAll(p).length > 1);
  if (repeated) return refuse(repeated, `${repeated} must not be repeated`);
  if (states.length === 1 && state === null) return refuse("state", `state is at most ${LIMITS.state} characters`);
  const unsupported = checkUnsupported(params, refuse);
  if (unsupported) return unsupported;
  const rest = checkRequestParams(params, client, refuse);
  if ("ok" in rest) return rest;
  return { ok: true, value: { clientId: id.value, redirectUri, state, ...rest } };
}

type Refuse = (field: string, message: string, error?: AuthorizeErrorCode) => AuthorizeFailure;

function checkUnsupported(params: URLSearchParams, refuse: Refuse): AuthorizeFailure | null {
  if (params.has("request")) return refuse("request", "request objects are not supported", "request_not_supported");
  if (params.has("request_uri")) return refuse("request_uri", "request_uri is not supported", "request_uri_not_supported");
  if (params.has("registration")) return refuse("registration", "registration is not supported", "registration_not_supported");
  const type = params.get("response_type");
  if (type === null) return refuse("response_type", "response_type is required");
  if (type !== "code") return refuse("response_type", "only response_type=code is supported", "unsupported_response_type");
  const mode = params.get("response_mode");
  if (mode !== null && mode !== "query") return refuse("response_mode", "only response_mode=query is supported");
  return null;
}

function checkRequestParams(
  params: URLSearchParams,
  client: AuthorizeClient,
  refuse: Refuse,
): AuthorizeFailure | Omit<AuthorizationRequest, "clientId" | "redirectUri" | "state"> {
  const scopes = parseScope(params.get("scope") ?? "");
  if (!scopes.includes("openid")) return refuse("scope", "scope must include openid", "invalid_scope");
  const notAllowed = scopes.filter((s) => !client.scopes.includes(s));
  if (notAllowed.length) return refuse("scope", `scope not allowed for this client: ${notAllowed.join(" ")}`, "invalid_scope");
  const challenge = params.get("code_challenge");
  if (challenge === null) return refuse("code_challenge", "code_challenge is required (PKCE with S256)");
  if (params.get("code_challenge_method") !== "S256") return refuse("code_challenge_method", "code_challenge_method must be S256");
  if (!S256_CHALLENGE.test(challenge)) return refuse("code_challenge", "code_challenge must be the base64url SHA-256 of the verifier");
  const prompt = parsePrompt(params.get("prompt"));
  if (!prompt.ok) return refuse("prompt", prompt.message);
  const maxAgeRaw = params.get("max_age");
  if (maxAgeRaw !== null && !/^\d{1,9}$/.test(maxAgeRaw)) return refuse("max_age", "max_age must be a non-negative integer of seconds");
  const nonce = params.get("nonce");
  if (nonce !== null && nonce.length > LIMITS.nonce) return refuse("nonce", `nonce is at most ${LIMITS.nonce} characters`);
  const hint = params.get("login_hint")?.trim() || null;
  if (hint !== null && hint.length > LIMITS.loginHint) return refuse("login_hint", `login_hint is at most ${LIMITS.loginHint} characters`);
  return {
    scopes,
    nonce,
    codeChallenge: challenge,
    prompt: prompt.value,
    maxAge: maxAgeRaw === null ? null : Number(maxAgeRaw),
    acrValues: parseScope(params.get("acr_values") ?? "").filter((v): v is Acr => oneOf(ACR_VALUES, v)),
    loginHint: hint,
  };
}

/** `prompt`: space-separated values of none, login, consent; `none` stands alone (OIDC Core §3.1.2.1). */
export function parsePrompt(raw: string | null): Result<OidcPrompt[]> {
  const values = parseScope(raw ?? "");
  const unknown = values.find((v) => !oneOf(OIDC_PROMPTS, v));
  if (unknown !== undefined) return fail("prompt", `prompt "${unknown}" is not supported (${OIDC_PROMPTS.join(", ")})`);
  if (values.includes("none") && values.length > 1) return fail("prompt", "prompt=none must not be combined with other values");
  return { ok: true, value: values as OidcPrompt[] };
}

// ---------------------------------------------------------------------------------------------------------------
// The session decision

/** What a provider session proved, and when (ms). */
export interface SessionFacts {
  authTime: number;
  amr: readonly string[];
  acr: Acr | null;
}

export interface SessionDecisionInput {
  /** The valid provider session, or null. */
  session: SessionFacts | null;
  prompt: readonly OidcPrompt[];
  maxAge: number | null;
  acrValues: readonly Acr[];
  /** When this authorization request arrived (ms): a sign-in at or after it satisfies prompt=login and max_age. */
  requestedAt: number;
  /**
   * Consent for the requested scopes: the client is trusted, a remembered consent covers them, the user gave it
   * during this request, or none of these.
   */
  consent: "trusted" | "remembered" | "given" | "missing";
  now: number;
}

export type SignInReason = "no_session" | "prompt_login" | "max_age" | "acr";

export type SessionDecision =
  | { action: "issue" }
  | { action: "signin"; reason: SignInReason }
  | { action: "consent" }
  | { action: "error"; error: "login_required" | "consent_required"; reason?: SignInReason };

/** Whether the session's acr meets one of the requested values: `phrh` needs phrh; `phr` accepts phr or phrh. */
export function acrSatisfied(acr: Acr | null, requested: readonly Acr[]): boolean {
  if (requested.length === 0) return true;
  return requested.some((want) => (want === "phrh" ? acr === "phrh" : acr === "phr" || acr === "phrh"));
}

function signInNeeded(d: SessionDecisionInput): SignInReason | null {
  const s = d.session;
  if (!s) return "no_session";
  const fresh = s.authTime >= d.requestedAt;
  if (d.prompt.includes("login") && !fresh) return "prompt_login";
  if (d.maxAge !== null && !fresh && d.now - s.authTime > d.maxAge * 1000) return "max_age";
  if (!acrSatisfied(s.acr, d.acrValues)) return "acr";
  return null;
}

/**
 * Decides an authorization request: issue the code now, send the browser to sign in (with why), ask consent, or
 * (prompt=none) answer login_required / consent_required. prompt=consent asks even a trusted client's user, once per
 * request.
 */
export function decideSession(d: SessionDecisionInput): SessionDecision {
  const none = d.prompt.includes("none");
  const reason = signInNeeded(d);
  if (reason) return none ? { action: "error", error: "login_required", reason } : { action: "signin", reason };
  const consentNeeded = d.consent === "missing" || (d.prompt.includes("consent") && d.consent !== "given");
  if (consentNeeded) return none ? { action: "error", error: "consent_required" } : { action: "consent" };
  return { action: "issue" };
}

// ---------------------------------------------------------------------------------------------------------------
// amr and acr

/** A factor a sign-in proved: a passkey (its backup-eligible and user-verified flags) or a password. */
export type ProvenFactor = { kind: "passkey"; backupEligible: boolean; userVerified: boolean } | { kind: "password" };

/**
 * amr (RFC 8176) and acr from the factors of a sign-in, in order: `pwd` for a password; `pop` for every passkey, with
 * `hwk` for a device-bound one (backup-eligible 0) or `swk` for a synced one, and `user` when it verified the user;
 * `mfa` for two factors. acr: `phrh` when a passkey was device-bound and verified the user, `phr` for any other
 * passkey sign-in, null for a password-only one.
 */
export function authenticationFacts(factors: readonly ProvenFactor[]): { amr: Amr[]; acr: Acr | null } {
  const amr: Amr[] = [];
  for (const f of factors) {
    if (f.kind === "password") amr.push("pwd");
    else amr.push("pop", f.backupEligible ? "swk" : "hwk", ...(f.userVerified ? (["user"] as const) : []));
  }
  if (factors.length >= 2) amr.push("mfa");
  const passkeys = factors.filter((f) => f.kind === "passkey");
  const acr: Acr | null = passkeys.some((p) => !p.backupEligible && p.userVerified) ? "phrh" : passkeys.length ? "phr" : null;
  return { amr: unique(amr), acr };
}
