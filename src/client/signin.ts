/**
 * Sign-in page (GET /{tid}/{wid}/login). Page data comes from data-* attributes on <body>: tid, wid, mode
 * ("smart" | "classic" | ""), methods ("passkey password", preferred first).
 *
 * Smart: "Sign in with a passkey" (options {}), plus passkey autofill (conditional mediation) on the username field.
 * Classic: username, then the passkey prompt (options {identifier}). Password: POST /login/password, then the passkey
 * step when the answer is {login_id, next: ["webauthn"]}. On success the token goes to sessionStorage and the browser
 * to return_to (same-origin path only) or the portal.
 */
import {
  browserSupportsWebAuthn,
  browserSupportsWebAuthnAutofill,
  startAuthentication,
  WebAuthnAbortService,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/browser";
import { api } from "./lib/api";
import { $, announce, data } from "./lib/dom";
import { safeReturnTo, saveToken } from "./lib/session";
import { isCeremonyAbort, signinMessage } from "./lib/signin-messages";

type Tokens = { access_token: string; token_type: string; expires_in: number; scope: string };
type Next = { login_id: string; next: string[] };
type Options = { login_id: string; publicKey: PublicKeyCredentialRequestOptionsJSON };

const tid = data("tid");
const wid = data("wid");
const mode = data("mode");
const methods = data("methods").split(" ").filter(Boolean);
const passwordOffered = methods.includes("password");
const base = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/login`;

const form = document.querySelector<HTMLFormElement>("#signin-form");
const identifier = document.querySelector<HTMLInputElement>("#identifier");
const password = document.querySelector<HTMLInputElement>("#password");
const passkeyButton = document.querySelector<HTMLButtonElement>("#passkey-button");
const firstStep = $("#first-step");
const secondStep = $("#second-factor");

/** Bumped by every ceremony the user starts; a pending autofill request that sees another number gives up. */
let generation = 0;
let busy = false;
let busyButton: HTMLButtonElement | null = null;
let leaving = false;
/** The sign-in transaction of the password sign-in that waits for its passkey step. */
let pendingSigninId: string | null = null;

/** While a request or prompt runs, the buttons are disabled; afterwards focus returns to the button that started it. */
function setBusy(on: boolean, button?: HTMLButtonElement | null) {
  if (leaving) return;
  busy = on;
  for (const b of document.querySelectorAll<HTMLButtonElement>("main button")) b.disabled = on;
  if (on) {
    busyButton = button ?? null;
    busyButton?.setAttribute("aria-busy", "true");
    return;
  }
  busyButton?.removeAttribute("aria-busy");
  if (
    busyButton &&
    !busyButton.hidden &&
    !busyButton.closest("[hidden]") &&
    (document.activeElement === document.body || !document.activeElement)
  )
    busyButton.focus();
  busyButton = null;
}

function fail(err: unknown) {
  announce(signinMessage(err, { passwordOffered }), "error");
}

function invalid(input: HTMLInputElement, message: string) {
  input.setAttribute("aria-invalid", "true");
  input.focus();
  announce(message, "error");
}

function done(tokens: Tokens) {
  leaving = true; // the buttons stay disabled while the next page loads
  saveToken(tid, wid, tokens.access_token);
  announce("You're signed in. Taking you to your account…", "success");
  const target =
    safeReturnTo(new URLSearchParams(location.search).get("return_to")) ?? `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/account`;
  location.assign(target);
}

/** Either tokens (signed in), the passkey step (after the password), or a step this page cannot do. */
function handleResult(result: Tokens | Next) {
  if ("access_token" in result) return done(result);
  if (result.next.includes("webauthn")) return showSecondFactor(result.login_id);
  announce("Your account needs another sign-in step that this page can't do yet. Ask your administrator.", "error");
}

const finish = (login_id: string, credential: AuthenticationResponseJSON) =>
  api<Tokens | Next>("POST", `${base}/webauthn/finish`, { login_id, credential });

/** A passkey sign-in with the modal prompt: options, the browser's prompt, finish. */
async function passkeySignIn(body: Record<string, string>, button: HTMLButtonElement | null) {
  if (busy) return;
  generation++;
  setBusy(true, button);
  announce("Waiting for your passkey…");
  try {
    const opts = await api<Options>("POST", `${base}/webauthn/options`, body);
    // Starting a new ceremony aborts the pending autofill request (WebAuthnAbortService).
    const credential = await startAuthentication({ optionsJSON: opts.publicKey });
    handleResult(await finish(opts.login_id, credential));
  } catch (err) {
    if (isCeremonyAbort(err)) announce("");
    else fail(err);
    void armAutofill();
  } finally {
    setBusy(false);
  }
}

/**
 * Passkey autofill (Smart): a conditional request that the browser answers when the user picks a passkey from the
 * username field's suggestions. It is aborted by any ceremony the user starts; then it gives up silently and is armed
 * again when that ceremony ends without signing in. A conditional request that the browser refuses by itself is not
 * retried (no loop of requests), and a failed sign-in through it is retried a few times at most.
 */
let autofillFailures = 0;
const MAX_AUTOFILL_FAILURES = 3;

async function armAutofill() {
  if (mode !== "smart" || !identifier || pendingSigninId || autofillFailures >= MAX_AUTOFILL_FAILURES) return;
  if (!(await browserSupportsWebAuthnAutofill())) return;
  const mine = ++generation;
  let credential: AuthenticationResponseJSON;
  let opts: Options;
  try {
    opts = await api<Options>("POST", `${base}/webauthn/options`, {});
    if (mine !== generation || busy) return; // the user started something else meanwhile
    credential = await startAuthentication({ optionsJSON: opts.publicKey, useBrowserAutofill: true });
  } catch {
    // Aborted by a newer ceremony, or refused by the browser without the user: nothing to tell the user.
    if (mine === generation) autofillFailures = MAX_AUTOFILL_FAILURES;
    return;
  }
  if (mine !== generation) return;
  setBusy(true);
  announce("Checking your passkey…");
  try {
    handleResult(await finish(opts.login_id, credential));
  } catch (err) {
    autofillFailures++;
    fail(err);
    setTimeout(() => void armAutofill(), 0);
  } finally {
    setBusy(false);
  }
}

function showSecondFactor(signinId: string) {
  pendingSigninId = signinId;
  generation++;
  WebAuthnAbortService.cancelCeremony(); // the username field (and its autofill) goes away
  firstStep.hidden = true;
  secondStep.hidden = false;
  announce("Password accepted. Now confirm it's you with your passkey.", "success");
  $("#second-factor-title").focus();
}

$<HTMLButtonElement>("#second-factor-button").addEventListener("click", (e) => {
  if (pendingSigninId) void passkeySignIn({ login_id: pendingSigninId }, e.currentTarget as HTMLButtonElement);
});

$<HTMLButtonElement>("#start-over").addEventListener("click", () => {
  pendingSigninId = null;
  secondStep.hidden = true;
  firstStep.hidden = false;
  if (password) password.value = "";
  announce("");
  (identifier ?? passkeyButton)?.focus();
  void armAutofill();
});

async function passwordSignIn(button: HTMLButtonElement | null) {
  if (!identifier || !password || busy) return;
  if (!identifier.value.trim()) return invalid(identifier, "Enter your email or username.");
  if (!password.value) return invalid(password, "Enter your password.");
  generation++;
  WebAuthnAbortService.cancelCeremony();
  setBusy(true, button);
  announce("Signing you in…");
  try {
    handleResult(await api<Tokens | Next>("POST", `${base}/password`, { identifier: identifier.value.trim(), password: password.value }));
  } catch (err) {
    fail(err);
    password.value = "";
    if (!pendingSigninId) void armAutofill();
  } finally {
    setBusy(false);
  }
}

// Smart: the one-tap button needs no username.
if (mode === "smart" && passkeyButton) {
  passkeyButton.addEventListener("click", () => void passkeySignIn({}, passkeyButton));
}

form?.addEventListener("submit", (e) => {
  e.preventDefault();
  for (const input of form.querySelectorAll("input")) input.removeAttribute("aria-invalid");
  const submitter = e.submitter as HTMLButtonElement | null;
  // Enter in the password field means the password, whichever button comes first in the form.
  const method = document.activeElement === password && password?.value ? "password" : (submitter?.value ?? "password");
  if (method === "password") return void passwordSignIn(submitter);
  if (mode === "smart") return void passkeySignIn({}, submitter);
  if (!identifier?.value.trim()) return invalid(identifier!, "Enter your email or username, then continue with your passkey.");
  void passkeySignIn({ identifier: identifier.value.trim() }, submitter);
});

if (new URLSearchParams(location.search).has("signed_out")) announce("You're signed out.", "success");

if (mode && !browserSupportsWebAuthn()) {
  $("#no-passkeys").hidden = false;
  for (const b of document.querySelectorAll<HTMLButtonElement>("button[value=passkey], #passkey-button")) b.hidden = true;
} else {
  void armAutofill();
}
