/**
 * The sign-up page's component: email address → code sent (POST /signup/request) → the code and the passkey prompt
 * (POST /signup/webauthn/options, the browser's create, POST /signup/webauthn/complete) → signed in: with
 * `continue_url` (an app's authorization) there, else the token saved and the portal (or a same-origin return_to).
 */
import type { z } from "@hono/zod-openapi";
import { type RegistrationResponseJSON, startRegistration } from "@simplewebauthn/browser";
import { useEffect, useState } from "hono/jsx/dom";
import type { SignupResult, SignupStarted } from "../../api/signup";
import type { CreationOptions } from "../../api/webauthn";
import { createLabel, SignupView, type SignupStep } from "../../pages/signup-view";
import { ApiFailure, api } from "../lib/api";
import { BusyButton, BusyContext, useBusyState } from "../lib/busy";
import { useFocusAfter } from "../lib/dom";
import { passkeyMessage } from "../lib/passkey-errors";
import { safeReturnTo, saveToken } from "../lib/session";
import { type Say, StatusRegion, useStatus } from "../lib/status";
import { isPasskeyError } from "../lib/signin-messages";

export interface SignupPage {
  tid: string;
  wid: string;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]+\.[^\s@]+$/;
const WRONG_CODE = "This code doesn't work: it may be mistyped, used or expired. Check the message, or get a new code.";
const NETWORK = "We couldn't reach the server. Check your connection and try again.";
const SERVER = "Something went wrong on our side. Try again in a moment.";

const query = () => new URLSearchParams(location.search);
const baseOf = (page: SignupPage) => `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/signup`;

/** Minutes until a 429 can be retried (Retry-After, seconds), at least 1. */
function waitMinutes(e: ApiFailure): number {
  const seconds = Number(e.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 60) : 1;
}

const minutes = (n: number) => `${n} minute${n === 1 ? "" : "s"}`;

/** What the page says for a failed call of a step. */
function failureMessage(e: unknown, step: "send" | "code" | "complete"): string {
  if (!(e instanceof ApiFailure)) return NETWORK;
  if (e.status === 429) {
    const wait = minutes(waitMinutes(e));
    if (e.details.limit === "otp_requests") return `Too many codes were requested for this address. Try again in ${wait}.`;
    if (e.details.limit === "otp_failures") return `Too many wrong codes for this address. Try again in ${wait}.`;
    return `Too many attempts. Try again in ${wait}.`;
  }
  if (e.status === 401) return WRONG_CODE;
  if (e.status === 400 && step === "send") return "Enter a valid email address, like name@example.com.";
  if (e.code === "identifier_taken") return "An account with this address exists already. Sign in instead.";
  if (e.code === "registration_failed") return "We couldn't create your passkey. Try again, or use another device.";
  if (e.status === 400 && step === "complete") return `${e.message}. Try another passkey or device.`;
  if (e.status === 404) return "Sign-up is not available here any more.";
  return SERVER;
}

function registrationMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "NotAllowedError") return "The passkey prompt was cancelled or timed out. Your code still works: try again.";
  if (isPasskeyError(err)) return passkeyMessage(err);
  return "We couldn't create your passkey. Try again.";
}

type Options = z.infer<typeof CreationOptions>;
type Result = z.infer<typeof SignupResult>;

/** The signed-in user goes where a sign-in would take them. */
function leave(page: SignupPage, result: Result, say: Say) {
  const next = safeReturnTo(result.continue_url ?? null);
  if (next) {
    say("Your account is ready. Taking you back to the app…", "success");
    return location.assign(next);
  }
  saveToken(page.tid, page.wid, result.access_token);
  say("Your account is ready. Taking you to it…", "success");
  const account = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/account`;
  location.assign(safeReturnTo(query().get("return_to")) ?? account);
}

/** What the steps need of the component: the live region, a refused field, the pending sign-up, leaving. */
interface Ui {
  say: Say;
  refuse(field: "email" | "code", message: string): void;
  pending(p: { id: string; address: string }): void;
  leaving(): void;
}

const fieldValue = (id: string) => (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? "";

/** The address step: a code (or, for an address with an account, a notice) goes to it. */
async function sendCode(page: SignupPage, ui: Ui) {
  const address = fieldValue("email");
  if (!EMAIL.test(address)) return ui.refuse("email", "Enter your email address, like name@example.com.");
  ui.say("Sending your code…");
  try {
    const { signup_id } = await api<z.infer<typeof SignupStarted>>("POST", `${baseOf(page)}/request`, { address });
    ui.pending({ id: signup_id, address });
    ui.say(`We sent a code to ${address}. It can take a minute to arrive.`, "success");
  } catch (e) {
    ui.refuse("email", failureMessage(e, "send"));
  }
}

/** The code step: options (the code checked), the browser's prompt, complete (the account made), then signed in. */
async function createAccount(page: SignupPage, signupId: string, ui: Ui) {
  const code = fieldValue("code");
  if (!/^[0-9]{4,32}$/.test(code)) return ui.refuse("code", "Enter the code from the message we sent you (digits only).");
  const base = baseOf(page);
  ui.say("Checking your code…");
  let options: Options;
  try {
    options = await api<Options>("POST", `${base}/webauthn/options`, { signup_id: signupId, code });
  } catch (e) {
    return ui.refuse("code", failureMessage(e, "code"));
  }
  ui.say("Waiting for your device…");
  let credential: RegistrationResponseJSON;
  try {
    credential = await startRegistration({
      optionsJSON: options.publicKey as unknown as Parameters<typeof startRegistration>[0]["optionsJSON"],
    });
  } catch (e) {
    return ui.say(registrationMessage(e), "error");
  }
  ui.say("Creating your account…");
  try {
    const authz = query().get("authz") ?? undefined;
    const result = await api<Result>("POST", `${base}/webauthn/complete`, { signup_id: signupId, code, credential, authz });
    ui.leaving();
    leave(page, result, ui.say);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return ui.refuse("code", WRONG_CODE);
    ui.say(failureMessage(e, "complete"), "error");
  }
}

export function Signup({ page, typed }: { page: SignupPage; typed: string }) {
  const busy = useBusyState();
  const [status, say] = useStatus();
  const [pending, setPending] = useState<{ id: string; address: string } | null>(null);
  const [invalid, setInvalid] = useState<"email" | "code" | null>(null);
  const [left, setLeft] = useState(false);
  const focusAfter = useFocusAfter(busy.running === null);
  const supported = typeof window.PublicKeyCredential === "function";

  useEffect(() => {
    const email = document.getElementById("email") as HTMLInputElement | null;
    if (email && typed && !email.value) email.value = typed;
    if (!supported) say("This browser cannot create passkeys. Open this page in an up-to-date browser on your phone or computer.", "error");
  }, []);

  const ui: Ui = {
    say: (message, kind) => {
      if (kind !== "error") setInvalid(null);
      say(message, kind);
    },
    refuse(field, message) {
      setInvalid(field);
      focusAfter(`#${field}`);
      say(message, "error");
    },
    pending(p) {
      setPending(p);
      focusAfter("#code");
    },
    leaving: () => setLeft(true),
  };
  const restart = async () => {
    setPending(null);
    setInvalid(null);
    const code = document.getElementById("code") as HTMLInputElement | null;
    if (code) code.value = "";
    say("");
    focusAfter("#email");
  };
  const actions = {
    send: () => sendCode(page, ui),
    create: async () => (pending ? createAccount(page, pending.id, ui) : undefined),
    restart,
  };
  const step: SignupStep = pending ? "code" : "address";
  return (
    <BusyContext.Provider value={busy}>
      <SignupView
        step={step}
        address={pending?.address}
        invalid={invalid}
        status={<StatusRegion status={status} />}
        onSubmit={(e) => e.preventDefault()}
        button={(b) => (
          <BusyButton
            type={b.action === "restart" ? "button" : "submit"}
            class={b.primary ? "block" : "block secondary"}
            id={b.action}
            action={b.action}
            locked={left || (!supported && b.action !== "restart")}
            onRun={actions[b.action]}
          >
            {b.action === "create" ? createLabel(busy.running === "create") : b.label}
          </BusyButton>
        )}
      />
    </BusyContext.Provider>
  );
}
