/**
 * The recovery page's component: address → "if this address belongs to an account, we sent it a code" (POST
 * /recover/request, the same answer for every address) → the code and the passkey prompt (POST
 * /recover/webauthn/options, the browser's create, POST /recover/webauthn/complete) → signed in: with `continue_url`
 * (an app's authorization) there, else the token saved and the portal (or a same-origin return_to).
 */
import type { z } from "@hono/zod-openapi";
import { type RegistrationResponseJSON, startRegistration } from "@simplewebauthn/browser";
import { useEffect, useState } from "hono/jsx/dom";
import type { RecoveryResult } from "../../api/recovery";
import type { CreationOptions } from "../../api/webauthn";
import { createLabel, type RecoverAction, type RecoverStep, RecoverView, type RecoverViewProps } from "../../pages/recover-view";
import { ApiFailure, api } from "../lib/api";
import { BusyButton, BusyContext, useBusy, useBusyState } from "../lib/busy";
import { useFocusAfter } from "../lib/dom";
import { passkeyMessage } from "../lib/passkey-errors";
import { safeReturnTo, saveToken } from "../lib/session";
import { isPasskeyError } from "../lib/signin-messages";
import { type Say, StatusRegion, useStatus } from "../lib/status";

export interface RecoverPage {
  tid: string;
  wid: string;
}

type Options = z.infer<typeof CreationOptions>;
type Result = z.infer<typeof RecoveryResult>;

const ADDRESS = /^(?:[^\s@]{1,64}@[^\s@]+\.[^\s@]+|\+[0-9]{6,15})$/;
const WRONG_CODE =
  "This code doesn't work: it may be mistyped, used or expired, or the address has no account that can recover here. Check the message, or get a new code.";
const NETWORK = "We couldn't reach the server. Check your connection and try again.";
const SERVER = "Something went wrong on our side. Try again in a moment.";

const query = () => new URLSearchParams(location.search);
const minutes = (n: number) => `${n} minute${n === 1 ? "" : "s"}`;

/** Minutes until a 429 can be retried (Retry-After, seconds), at least 1. */
function waitMinutes(e: ApiFailure): number {
  const seconds = Number(e.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 60) : 1;
}

/** What the page says for a failed call of a step. None says whether the address has an account. */
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
  if (e.code === "authenticator_not_allowed")
    return `${e.message}. Your code is used up: get a new code and use another passkey or device.`;
  if (e.status === 400 || e.status === 409)
    return "We couldn't create your passkey, and your code is used up. Get a new code and try again.";
  if (e.status === 404) return "Recovery is not available here any more. Ask your administrator to help you get back in.";
  return SERVER;
}

function registrationMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "NotAllowedError") return "The passkey prompt was cancelled or timed out. Your code still works: try again.";
  if (name === "InvalidStateError") return "This device already has a passkey for this account. Sign in with it instead.";
  if (isPasskeyError(err)) return passkeyMessage(err);
  return "We couldn't create your passkey. Try again.";
}

/** Signed in: where a sign-in would go (the app's authorization, else the portal or a same-origin return_to). */
function leave(page: RecoverPage, result: Result, say: Say) {
  const next = safeReturnTo(result.continue_url ?? null);
  if (next) {
    say("Your new passkey is ready and you're signed in. Taking you back to the app…", "success");
    return location.assign(next);
  }
  saveToken(page.tid, page.wid, result.access_token);
  say("Your new passkey is ready and you're signed in. Taking you to your account…", "success");
  const account = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/account`;
  location.assign(safeReturnTo(query().get("return_to")) ?? account);
}

const field = (id: string) => (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? "";

interface Ui {
  say: Say;
  refuse(which: "address" | "code", message: string): void;
  /** Signed in: the buttons stay disabled while the next page loads. */
  leaving(): void;
}

/** The code, the browser's passkey prompt and the new passkey; then signed in. Says what went wrong otherwise. */
async function createPasskey(page: RecoverPage, base: string, address: string, code: string, ui: Ui): Promise<void> {
  ui.say("Checking your code…");
  let options: Options;
  try {
    options = await api<Options>("POST", `${base}/webauthn/options`, { address, code });
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
    return ui.say(registrationMessage(e), "error"); // options does not use the code up: the user can try again
  }
  ui.say("Saving your new passkey…");
  try {
    const authz = query().get("authz") ?? undefined;
    const result = await api<Result>("POST", `${base}/webauthn/complete`, { address, code, credential, authz });
    ui.leaving();
    leave(page, result, ui.say);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return ui.refuse("code", WRONG_CODE);
    ui.say(failureMessage(e, "complete"), "error");
  }
}

/** Asks for a code (the answer is the same whether or not the address has an account); false after saying why not. */
async function requestCode(base: string, address: string, ui: Ui): Promise<boolean> {
  ui.say("Sending your code…");
  try {
    await api<void>("POST", `${base}/request`, { address });
    return true;
  } catch (e) {
    ui.refuse("address", failureMessage(e, "send"));
    return false;
  }
}

type FormProps = Omit<RecoverViewProps, "button" | "onSubmit"> & {
  actions: Record<RecoverAction, () => Promise<void>>;
  /** Buttons other than "restart" stay disabled (signed in and leaving, or no passkeys in this browser). */
  locked: boolean;
};

/** The steps with buttons that run their actions through the page's busy state. */
function RecoverForm({ actions, locked, ...view }: FormProps) {
  const busy = useBusy();
  return (
    <RecoverView
      {...view}
      onSubmit={(e) => e.preventDefault()}
      button={(b) => (
        <BusyButton
          type={b.action === "restart" ? "button" : "submit"}
          class={b.primary ? "block" : "block secondary"}
          id={b.action}
          action={b.action}
          locked={locked && b.action !== "restart"}
          onRun={actions[b.action]}
        >
          {b.action === "create" ? createLabel(busy.running === "create") : b.label}
        </BusyButton>
      )}
    />
  );
}

export function Recover({ page, typed }: { page: RecoverPage; typed: string }) {
  const busy = useBusyState();
  const [status, say] = useStatus();
  const [step, setStep] = useState<RecoverStep>("address");
  const [address, setAddress] = useState<string | null>(null);
  const [invalid, setInvalid] = useState<"address" | "code" | null>(null);
  const [left, setLeft] = useState(false);
  const focusAfter = useFocusAfter(busy.running === null);
  const supported = typeof window.PublicKeyCredential === "function";
  const base = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/recover`;

  useEffect(() => {
    const input = document.getElementById("address") as HTMLInputElement | null;
    if (input && typed && !input.value) input.value = typed;
    if (!supported) say("This browser cannot create passkeys. Open this page in an up-to-date browser on your phone or computer.", "error");
  }, []);

  const ui: Ui = {
    say,
    refuse: (which, message) => {
      setInvalid(which);
      focusAfter(`#${which}`);
      say(message, "error");
    },
    leaving: () => setLeft(true),
  };

  const send = async () => {
    const value = field("address");
    if (!ADDRESS.test(value)) return ui.refuse("address", "Enter the email address of your account, like name@example.com.");
    setInvalid(null);
    if (!(await requestCode(base, value, ui))) return;
    setAddress(value);
    setStep("code");
    say("If this address belongs to an account, we sent it a code. It can take a minute to arrive.", "success");
    focusAfter("#code");
  };

  const create = async () => {
    const code = field("code");
    if (!address) return;
    if (!/^[0-9]{4,32}$/.test(code)) return ui.refuse("code", "Enter the code from the message we sent you (digits only).");
    setInvalid(null);
    await createPasskey(page, base, address, code, ui);
  };

  const restart = async () => {
    setAddress(null);
    setInvalid(null);
    setStep("address");
    const code = document.getElementById("code") as HTMLInputElement | null;
    if (code) code.value = "";
    say("");
    focusAfter("#address");
  };

  return (
    <BusyContext.Provider value={busy}>
      <RecoverForm
        step={step}
        address={address ?? undefined}
        invalid={invalid}
        status={<StatusRegion status={status} />}
        actions={{ send, create, restart }}
        locked={left || !supported}
      />
    </BusyContext.Provider>
  );
}
