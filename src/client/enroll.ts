/** Enrollment-link page: one-time code → creation options → passkey prompt → complete → "your passkey is ready". */
import { startRegistration, type PublicKeyCredentialCreationOptionsJSON, type RegistrationResponseJSON } from "@simplewebauthn/browser";
import { api, ApiFailure } from "./lib/api";
import { $, announce, data } from "./lib/dom";
import { passkeyMessage } from "./lib/passkey-errors";

const tid = data("tid");
const wid = data("wid");
const userId = data("user");
const base = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/enroll/webauthn`;

const form = $<HTMLFormElement>("#enroll-form");
const codeInput = $<HTMLInputElement>("#code");
const button = $<HTMLButtonElement>("#create");

const INVALID = "This code or link does not work: it may be wrong, used or expired. Ask your administrator for a new code.";

function registrationMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "InvalidStateError") return "This device already has a passkey for this account. Sign in with it instead.";
  if (["NotAllowedError", "AbortError", "SecurityError", "NotSupportedError"].includes(name)) return passkeyMessage(err);
  return "We could not create a passkey. Try again.";
}

function setBusy(busy: boolean) {
  button.disabled = busy;
  button.textContent = busy ? "Waiting for your device…" : "Create a passkey";
  form.setAttribute("aria-busy", String(busy));
}

function showDone() {
  $("#enroll-step").hidden = true;
  const done = $("#enroll-done");
  done.hidden = false;
  announce("");
  // Focus on the heading: screen readers read "Your passkey is ready", the sign-in link is the next stop.
  $("#done-title").focus();
}

async function enroll(code: string) {
  let options: { publicKey: PublicKeyCredentialCreationOptionsJSON };
  try {
    options = await api("POST", `${base}/options`, { user_id: userId, code });
  } catch (e) {
    announce(
      e instanceof ApiFailure && e.status === 401 ? INVALID : "The service is not reachable right now. Try again in a moment.",
      "error",
    );
    codeInput.setAttribute("aria-invalid", String(e instanceof ApiFailure && e.status === 401));
    return;
  }
  let credential: RegistrationResponseJSON;
  try {
    credential = await startRegistration({ optionsJSON: options.publicKey });
  } catch (e) {
    // The code is still valid: options does not use it up.
    announce(registrationMessage(e), "error");
    return;
  }
  try {
    await api("POST", `${base}/complete`, { user_id: userId, code, credential });
  } catch (e) {
    announce(
      e instanceof ApiFailure && e.status === 401 ? INVALID : "The service is not reachable right now. Try again in a moment.",
      "error",
    );
    return;
  }
  showDone();
}

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = codeInput.value.trim();
  if (!/^[0-9]+$/.test(code)) {
    codeInput.setAttribute("aria-invalid", "true");
    announce("Enter the code from your enrollment message (digits only).", "error");
    codeInput.focus();
    return;
  }
  codeInput.removeAttribute("aria-invalid");
  announce("");
  setBusy(true);
  try {
    await enroll(code);
  } finally {
    setBusy(false);
  }
});

if (typeof window.PublicKeyCredential !== "function") {
  button.disabled = true;
  announce("This browser cannot create passkeys. Open the link in an up-to-date browser on your phone or computer.", "error");
}
