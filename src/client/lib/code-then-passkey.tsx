/**
 * The component of a hosted "email → one-time code → new passkey" page (sign-up, recovery): address → code sent (POST
 * <base>/request) → the code and the passkey prompt (POST <base>/webauthn/options, the browser's create, POST
 * <base>/webauthn/complete) → signed in: with `continue_url` (an app's authorization) there, else the token saved and
 * the portal (or a same-origin return_to). Each flow passes its wording and calls (src/client/signup/signup.tsx,
 * src/client/recover/recover.tsx); the steps' markup is src/pages/code-then-passkey-view.tsx.
 */
import type { z } from "@hono/zod-openapi";
import { type RegistrationResponseJSON, startRegistration } from "@simplewebauthn/browser";
import { useEffect, useState } from "hono/jsx/dom";
import type { SignedIn } from "../../api/common";
import type { CreationOptions } from "../../api/webauthn";
import { type CodeAction, type CodeThenPasskeyTexts, CodeThenPasskeyView, createLabel } from "../../pages/code-then-passkey-view";
import { ApiFailure, api } from "./api";
import { BusyButton, BusyContext, useBusyState } from "./busy";
import { useFocusAfter } from "./dom";
import { passkeyMessage } from "./passkey-errors";
import { safeReturnTo, saveToken } from "./session";
import { isPasskeyError } from "./signin-messages";
import { type Say, StatusRegion, useStatus } from "./status";

export interface CodePage {
  tid: string;
  wid: string;
}

export type CodeCall = "send" | "code" | "complete";

/** A flow's wording, checks and calls. */
export interface CodeFlow {
  /** The flow's path under /{tid}/{wid}/ ("signup", "recover"). */
  path: string;
  texts: CodeThenPasskeyTexts;
  /** What the address field takes, and what the page says otherwise. */
  address: RegExp;
  addressRefused: string;
  /** Asks for a code; resolves to the fields that name this attempt in the options and complete bodies. */
  request(base: string, address: string): Promise<Record<string, string>>;
  /** What the page says once the code is on its way. */
  sent(address: string): string;
  wrongCode: string;
  /** The flow's own message for a failed call (after rate limits, 401 and a refused address), if any. */
  failure(e: ApiFailure, step: CodeCall): string | undefined;
  /** What the page says when the device already has a passkey for the account, when the flow says anything special. */
  invalidState?: string;
  /** The live region while complete runs. */
  saving: string;
  /** The live region when signed in: going back to the app, or to the account. */
  ready: { app: string; account: string };
  /** The restart button is locked too once signed in and leaving. */
  lockRestartWhenLeaving: boolean;
}

type Options = z.infer<typeof CreationOptions>;
type Result = z.infer<typeof SignedIn>;

const NETWORK = "We couldn't reach the server. Check your connection and try again.";
const SERVER = "Something went wrong on our side. Try again in a moment.";

const query = () => new URLSearchParams(location.search);
const minutes = (n: number) => `${n} minute${n === 1 ? "" : "s"}`;

/** Minutes until a 429 can be retried (Retry-After, seconds), at least 1. */
function waitMinutes(e: ApiFailure): number {
  const seconds = Number(e.headers.get("retry-after"));
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 60) : 1;
}

/** What the page says for a failed call of a step. */
function failureMessage(flow: CodeFlow, e: unknown, step: CodeCall): string {
  if (!(e instanceof ApiFailure)) return NETWORK;
  if (e.status === 429) {
    const wait = minutes(waitMinutes(e));
    if (e.details.limit === "otp_requests") return `Too many codes were requested for this address. Try again in ${wait}.`;
    if (e.details.limit === "otp_failures") return `Too many wrong codes for this address. Try again in ${wait}.`;
    return `Too many attempts. Try again in ${wait}.`;
  }
  if (e.status === 401) return flow.wrongCode;
  if (e.status === 400 && step === "send") return "Enter a valid email address, like name@example.com.";
  return flow.failure(e, step) ?? SERVER;
}

function registrationMessage(flow: CodeFlow, err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "NotAllowedError") return "The passkey prompt was cancelled or timed out. Your code still works: try again.";
  if (name === "InvalidStateError" && flow.invalidState) return flow.invalidState;
  if (isPasskeyError(err)) return passkeyMessage(err);
  return "We couldn't create your passkey. Try again.";
}

/** Signed in: where a sign-in would go (the app's authorization, else the portal or a same-origin return_to). */
function leave(flow: CodeFlow, page: CodePage, result: Result, say: Say) {
  const next = safeReturnTo(result.continue_url ?? null);
  if (next) {
    say(flow.ready.app, "success");
    return location.assign(next);
  }
  saveToken(page.tid, page.wid, result.access_token);
  say(flow.ready.account, "success");
  const account = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/account`;
  location.assign(safeReturnTo(query().get("return_to")) ?? account);
}

/** What the steps need of the component: the live region, a refused field, the code sent, leaving. */
interface Ui {
  say: Say;
  refuse(field: string, message: string): void;
  pending(p: Pending): void;
  /** Signed in: the buttons stay disabled while the next page loads. */
  leaving(): void;
}

/** A code sent: the address it went to and the fields that name the attempt. */
interface Pending {
  address: string;
  ref: Record<string, string>;
}

const fieldValue = (id: string) => (document.getElementById(id) as HTMLInputElement | null)?.value.trim() ?? "";

/** The address step: a code goes to the address (what the server says about it is the flow's). */
async function sendCode(flow: CodeFlow, base: string, ui: Ui) {
  const field = flow.texts.field;
  const address = fieldValue(field);
  if (!flow.address.test(address)) return ui.refuse(field, flow.addressRefused);
  ui.say("Sending your code…");
  try {
    const ref = await flow.request(base, address);
    ui.pending({ address, ref });
    ui.say(flow.sent(address), "success");
  } catch (e) {
    ui.refuse(field, failureMessage(flow, e, "send"));
  }
}

/** The code step: options (the code checked), the browser's prompt, complete (the passkey saved), then signed in. */
async function createPasskey(flow: CodeFlow, page: CodePage, base: string, pending: Pending, ui: Ui) {
  const code = fieldValue("code");
  if (!/^[0-9]{4,32}$/.test(code)) return ui.refuse("code", "Enter the code from the message we sent you (digits only).");
  ui.say("Checking your code…");
  let options: Options;
  try {
    options = await api<Options>("POST", `${base}/webauthn/options`, { ...pending.ref, code });
  } catch (e) {
    return ui.refuse("code", failureMessage(flow, e, "code"));
  }
  ui.say("Waiting for your device…");
  let credential: RegistrationResponseJSON;
  try {
    credential = await startRegistration({
      optionsJSON: options.publicKey as unknown as Parameters<typeof startRegistration>[0]["optionsJSON"],
    });
  } catch (e) {
    return ui.say(registrationMessage(flow, e), "error"); // options does not use the code up: the user can try again
  }
  ui.say(flow.saving);
  try {
    const authz = query().get("authz") ?? undefined;
    const result = await api<Result>("POST", `${base}/webauthn/complete`, { ...pending.ref, code, credential, authz });
    ui.leaving();
    leave(flow, page, result, ui.say);
  } catch (e) {
    if (e instanceof ApiFailure && e.status === 401) return ui.refuse("code", flow.wrongCode);
    ui.say(failureMessage(flow, e, "complete"), "error");
  }
}

/** The view's buttons, each running its action through the page's busy state. */
const buttonOf =
  (
    texts: CodeThenPasskeyTexts,
    actions: Record<CodeAction, () => Promise<void>>,
    locked: (a: CodeAction) => boolean,
    running: string | null,
  ) =>
  (b: { action: CodeAction; label: string; primary: boolean }) => (
    <BusyButton
      type={b.action === "restart" ? "button" : "submit"}
      class={b.primary ? "block" : "block secondary"}
      id={b.action}
      action={b.action}
      locked={locked(b.action)}
      onRun={actions[b.action]}
    >
      {b.action === "create" ? createLabel(texts, running === "create") : b.label}
    </BusyButton>
  );

export function CodeThenPasskey({ flow, page, typed }: { flow: CodeFlow; page: CodePage; typed: string }) {
  const busy = useBusyState();
  const [status, say] = useStatus();
  const [pending, setPending] = useState<Pending | null>(null);
  const [invalid, setInvalid] = useState<string | null>(null);
  const [left, setLeft] = useState(false);
  const focusAfter = useFocusAfter(busy.running === null);
  const supported = typeof window.PublicKeyCredential === "function";
  const base = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/${flow.path}`;
  const field = flow.texts.field;

  useEffect(() => {
    const input = document.getElementById(field) as HTMLInputElement | null;
    if (input && typed && !input.value) input.value = typed;
    if (!supported) say("This browser cannot create passkeys. Open this page in an up-to-date browser on your phone or computer.", "error");
  }, []);

  const ui: Ui = {
    say: (message, kind) => {
      if (kind !== "error") setInvalid(null);
      say(message, kind);
    },
    refuse(which, message) {
      setInvalid(which);
      focusAfter(`#${which}`);
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
    focusAfter(`#${field}`);
  };
  const actions = {
    send: () => sendCode(flow, base, ui),
    create: async () => (pending ? createPasskey(flow, page, base, pending, ui) : undefined),
    restart,
  };
  const locked = (action: CodeAction) => (action === "restart" ? left && flow.lockRestartWhenLeaving : left || !supported);
  return (
    <BusyContext.Provider value={busy}>
      <CodeThenPasskeyView
        texts={flow.texts}
        step={pending ? "code" : "address"}
        address={pending?.address}
        invalid={invalid}
        status={<StatusRegion status={status} />}
        onSubmit={(e) => e.preventDefault()}
        button={buttonOf(flow.texts, actions, locked, busy.running)}
      />
    </BusyContext.Provider>
  );
}
