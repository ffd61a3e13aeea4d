/**
 * Self-service portal (GET /{tid}/{wid}/account). Page data from <body data-*>: tid, wid, mode ("smart" |
 * "classic" | ""), reauth-pools (pools whose users can confirm a change with a passkey sign-in).
 *
 * Without a valid token in sessionStorage it sends the browser to the sign-in page (return_to here). It lists the
 * user's passkeys from GET /identity/v2/self/me, and adds, renames and deletes them. Every change first confirms the
 * user with a passkey when the sign-in is older than 290 s, and retries once after 401 insufficient_user_authentication
 * (see lib/portal-reauth.ts).
 */
import {
  browserSupportsWebAuthn,
  startAuthentication,
  startRegistration,
  type PublicKeyCredentialDescriptorJSON,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/browser";
import { api, ApiFailure, type FailureCode } from "./lib/api";
import { $, announce, data } from "./lib/dom";
import { passkeyMessage } from "./lib/passkey-errors";
import { needsReauth, withRecentAuth, type RecentAuth } from "./lib/portal-reauth";
import { LAST_PASSKEY_REASON, nameProblem, passkeyViews, type CredentialJson, type PasskeyView } from "./lib/passkey-view";
import { authAge, clearToken, loadToken, saveToken } from "./lib/session";
import { isCeremonyAbort, isPasskeyError } from "./lib/signin-messages";

type Me = { id: string; identifiers: { identifier: string; type: string }[]; credentials: CredentialJson[] };
type Options = { login_id: string; publicKey: PublicKeyCredentialRequestOptionsJSON };
type Tokens = { access_token: string };

const tid = data("tid");
const wid = data("wid");
const mode = data("mode") as "smart" | "classic" | "";
const reauthPools = data("reauthPools").split(" ").filter(Boolean);
const workspacePath = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}`;
const selfPath = `${workspacePath}/identity/v2/self`;
const signinUrl = `${workspacePath}/login?${new URLSearchParams({ return_to: `${workspacePath}/account` })}`;

const portal = $("#portal");
const rows = $("#passkey-rows");
const addButton = $<HTMLButtonElement>("#add-passkey");
const dialog = $<HTMLDialogElement>("#delete-dialog");

let session = loadToken(tid, wid);
let me: Me | null = null;
let passkeys: PasskeyView[] = [];
/** The passkey whose name is being edited inline. */
let editing: string | null = null;
let busyButton: HTMLButtonElement | null = null;

/** A failure to confirm the user; the message says what to do, and "Sign in again" is offered. */
class ReauthError extends Error {}
/** Thrown after sending the browser to the sign-in page, to stop whatever was running; never shown. */
class LeavingPage extends Error {}

function toSignIn(): never {
  location.replace(signinUrl);
  throw new LeavingPage("redirecting to sign-in");
}

function setBusy(on: boolean, button?: HTMLButtonElement | null) {
  for (const b of portal.querySelectorAll<HTMLButtonElement>("button")) b.disabled = on || b.dataset.locked === "true";
  if (on) {
    busyButton = button ?? null;
    busyButton?.setAttribute("aria-busy", "true");
    return;
  }
  busyButton?.removeAttribute("aria-busy");
  if (busyButton?.isConnected && (document.activeElement === document.body || !document.activeElement)) busyButton.focus();
  busyButton = null;
}

/** The self-service API with the current token; a token the API no longer accepts sends the user to sign in. */
async function selfApi<T>(method: string, path: string, body?: unknown): Promise<T> {
  if (!session) toSignIn();
  try {
    return await api<T>(method, `${selfPath}${path}`, body, session.token);
  } catch (err) {
    if (err instanceof ApiFailure && err.status === 401 && err.code !== "insufficient_user_authentication") {
      clearToken(tid, wid);
      toSignIn();
    }
    throw err;
  }
}

/** Confirms the user with a passkey sign-in (Smart {} limited to their passkeys, or Classic {identifier}), and keeps the new token. */
async function confirmWithPasskey(): Promise<void> {
  const current = session ?? toSignIn();
  if (!mode || !reauthPools.includes(current.claims.pool_id) || passkeys.length === 0 || !browserSupportsWebAuthn()) {
    throw new ReauthError("For your security, sign in again before changing your passkeys.");
  }
  announce("For your security, confirm it's you with one of your passkeys.");
  const login = `${workspacePath}/login/webauthn`;
  let credential: AuthenticationResponseJSON;
  let opts: Options;
  try {
    opts = await api<Options>("POST", `${login}/options`, mode === "classic" ? { identifier: me?.identifiers[0]?.identifier ?? "" } : {});
  } catch {
    throw new ReauthError("We couldn't start the passkey check. Your change wasn't made. Try again, or sign in again.");
  }
  const optionsJSON: PublicKeyCredentialRequestOptionsJSON =
    mode === "smart"
      ? {
          ...opts.publicKey,
          allowCredentials: passkeys.map((p) => ({
            id: p.credentialId,
            type: "public-key",
            transports: p.transports as PublicKeyCredentialDescriptorJSON["transports"],
          })),
        }
      : opts.publicKey;
  try {
    credential = await startAuthentication({ optionsJSON });
  } catch (err) {
    throw new ReauthError(`${passkeyMessage(err)} Your change wasn't made: confirm it's you with your passkey, or sign in again.`);
  }
  let result: Tokens | { next: string[] };
  try {
    result = await api<Tokens | { next: string[] }>("POST", `${login}/finish`, { login_id: opts.login_id, credential });
  } catch {
    throw new ReauthError("We couldn't confirm it's you. Your change wasn't made. Try again, or sign in again.");
  }
  if (!("access_token" in result)) throw new ReauthError("For your security, sign in again before changing your passkeys.");
  saveToken(tid, wid, result.access_token);
  const next = loadToken(tid, wid);
  if (!next || next.claims.sub !== current.claims.sub) {
    saveToken(tid, wid, current.token);
    throw new ReauthError("That passkey belongs to a different account. Use a passkey of this account, or sign in again.");
  }
  session = next;
  announce("Thanks, that's you. Saving your change…");
}

const recentAuth: RecentAuth = {
  isRecent: () => !!session && !needsReauth(authAge(session.claims)),
  reauth: confirmWithPasskey,
};

/** The message for a failed change; a failed confirmation also offers "Sign in again". */
function changeFailed(err: unknown, fallback: string) {
  if (err instanceof LeavingPage) return;
  const again = $("#signin-again-row");
  if (err instanceof ReauthError) {
    again.hidden = false;
    return announce(err.message, "error");
  }
  again.hidden = true;
  if (isCeremonyAbort(err)) return announce("");
  if (isPasskeyError(err)) return announce(passkeyMessage(err), "error");
  if (err instanceof ApiFailure) {
    const byCode: Partial<Record<FailureCode, string>> = {
      last_credential: LAST_PASSKEY_REASON,
      credential_limit_reached: "You have as many passkeys as this account allows. Delete one you no longer use, then try again.",
      credential_exists: "This passkey is already on your account.",
      registration_failed: "Your device's answer couldn't be checked. Try again, or use another device.",
      passkey_mode_mismatch: "Adding passkeys isn't available in this workspace right now.",
      insufficient_user_authentication: "For your security, sign in again before changing your passkeys.",
      not_found: "That passkey no longer exists. The list is up to date now.",
    };
    if (err.code === "insufficient_user_authentication") again.hidden = false;
    if (err.status === 400 && err.code === "validation_failed")
      return announce("That name can't be used. Use 1 to 64 ordinary characters.", "error");
    if (err.status === 429) return announce("Too many attempts. Wait a minute, then try again.", "error");
    return announce(byCode[err.code] ?? fallback, "error");
  }
  if (err instanceof TypeError) return announce("We couldn't reach the server. Check your connection and try again.", "error");
  announce(fallback, "error");
}

async function reload() {
  me = await selfApi<Me>("GET", "/me");
  passkeys = passkeyViews(me.credentials);
  render();
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<Record<string, string>> = {}, ...children: (Node | string)[]) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) if (v !== undefined) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const when = (d: { iso: string; text: string } | null) => (d ? el("time", { datetime: d.iso }, d.text) : "Never");

function nameCell(p: PasskeyView, index: number) {
  if (editing !== p.id) {
    return el("th", { scope: "row", "data-label": "Name" }, el("span", { class: p.name ? "pk-name" : "pk-name unnamed" }, p.label));
  }
  const inputId = `rename-${index}`;
  const input = el("input", {
    id: inputId,
    type: "text",
    name: "name",
    maxlength: "64",
    autocomplete: "off",
    "aria-describedby": `${inputId}-hint`,
  });
  input.value = p.name ?? "";
  const cancel = el("button", { type: "button", class: "secondary" }, "Cancel");
  const form = el(
    "form",
    { class: "rename-form", novalidate: "" },
    el("label", { for: inputId }, "New name"),
    input,
    el("p", { class: "hint", id: `${inputId}-hint` }, "For example the device it's on, like “Work laptop”."),
    el("div", { class: "row" }, el("button", { type: "submit" }, "Save"), cancel),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    void rename(p, input, e.submitter as HTMLButtonElement | null);
  });
  const stop = () => {
    editing = null;
    render();
    rows.querySelector<HTMLButtonElement>(`button[data-rename="${CSS.escape(p.id)}"]`)?.focus();
    announce("");
  };
  cancel.addEventListener("click", stop);
  form.addEventListener("keydown", (e) => {
    if (e.key === "Escape") stop();
  });
  return el("th", { scope: "row", "data-label": "Name" }, form);
}

function actionsCell(p: PasskeyView, index: number) {
  const only = passkeys.length === 1;
  const renameButton = el(
    "button",
    { type: "button", class: "secondary small", "data-rename": p.id },
    "Rename",
    el("span", { class: "visually-hidden" }, ` ${p.label}`),
  );
  renameButton.addEventListener("click", () => {
    editing = p.id;
    $("#signin-again-row").hidden = true;
    announce("");
    render();
    rows.querySelector<HTMLInputElement>(`#rename-${index}`)?.select();
  });
  const reasonId = `delete-reason-${index}`;
  const deleteButton = el(
    "button",
    { type: "button", class: "danger small", "data-delete": p.id },
    "Delete",
    el("span", { class: "visually-hidden" }, ` ${p.label}`),
  );
  const cell = el("td", { class: "actions", "data-label": "Actions" }, el("div", { class: "row" }, renameButton, deleteButton));
  if (only) {
    deleteButton.disabled = true;
    deleteButton.dataset.locked = "true";
    deleteButton.setAttribute("aria-describedby", reasonId);
    cell.append(el("p", { class: "hint reason", id: reasonId }, LAST_PASSKEY_REASON));
  }
  deleteButton.addEventListener("click", () => askDelete(p, deleteButton));
  // While the name is edited, the row's other actions step aside (the form has its own Save and Cancel).
  if (editing === p.id) for (const child of cell.children) (child as HTMLElement).hidden = true;
  return cell;
}

function render() {
  if (!me) return;
  $("#user-identifier").textContent = me.identifiers[0]?.identifier ?? "(no username)";
  rows.replaceChildren(
    ...passkeys.map((p, i) =>
      el(
        "tr",
        { "data-id": p.id },
        nameCell(p, i),
        el("td", { "data-label": "Authenticator" }, p.authenticator),
        el("td", { "data-label": "Sync" }, el("span", { class: p.sync === "Synced" ? "badge synced" : "badge" }, p.sync)),
        el("td", { "data-label": "Created" }, when(p.created)),
        el("td", { "data-label": "Last used" }, when(p.lastUsed)),
        actionsCell(p, i),
      ),
    ),
  );
  $("#passkey-table").hidden = passkeys.length === 0;
  $("#empty").hidden = passkeys.length > 0;
}

async function rename(p: PasskeyView, input: HTMLInputElement, button: HTMLButtonElement | null) {
  const problem = nameProblem(input.value);
  if (problem) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
    return announce(problem, "error");
  }
  const name = input.value.trim().normalize("NFC");
  setBusy(true, button);
  try {
    await withRecentAuth(recentAuth, () => selfApi("PUT", `/webauthn/${encodeURIComponent(p.id)}/name`, { name }));
    editing = null;
    await reload();
    rows.querySelector<HTMLButtonElement>(`button[data-rename="${CSS.escape(p.id)}"]`)?.focus();
    $("#signin-again-row").hidden = true;
    announce(`Passkey renamed to “${name}”.`, "success");
  } catch (err) {
    changeFailed(err, "We couldn't rename this passkey. Try again.");
    if (err instanceof ApiFailure && err.code === "not_found") await reload().catch(() => undefined);
  } finally {
    setBusy(false);
  }
}

function askDelete(p: PasskeyView, button: HTMLButtonElement) {
  if (passkeys.length <= 1) return announce(LAST_PASSKEY_REASON, "error");
  $("#delete-name").textContent = p.label;
  dialog.returnValue = "";
  dialog.addEventListener(
    "close",
    () => {
      if (dialog.returnValue === "delete") void remove(p, button);
      else button.focus();
    },
    { once: true },
  );
  dialog.showModal();
}

async function remove(p: PasskeyView, button: HTMLButtonElement) {
  setBusy(true, button);
  try {
    await withRecentAuth(recentAuth, () => selfApi("DELETE", `/webauthn/${encodeURIComponent(p.id)}`));
    await reload();
    $<HTMLElement>("#passkeys-title").focus();
    $("#signin-again-row").hidden = true;
    announce(`Passkey “${p.label}” deleted.`, "success");
  } catch (err) {
    changeFailed(err, "We couldn't delete this passkey. Try again.");
    if (err instanceof ApiFailure && (err.code === "not_found" || err.code === "last_credential")) await reload().catch(() => undefined);
  } finally {
    setBusy(false);
  }
}

async function addPasskey() {
  if (!mode) return;
  const segment = mode === "smart" ? "usernameless-webauthn" : "webauthn";
  const before = new Set(passkeys.map((p) => p.id));
  editing = null;
  setBusy(true, addButton);
  try {
    await withRecentAuth(recentAuth, async () => {
      const begin = await selfApi<{ publicKey: PublicKeyCredentialCreationOptionsJSON }>("POST", `/${segment}/create/begin`);
      announce("Follow your browser's prompt to create the passkey.");
      const response = await startRegistration({ optionsJSON: begin.publicKey });
      return selfApi("POST", `/${segment}/create/complete`, response);
    });
    await reload();
    const added = passkeys.find((p) => !before.has(p.id));
    if (added) rows.querySelector<HTMLButtonElement>(`button[data-rename="${CSS.escape(added.id)}"]`)?.focus();
    $("#signin-again-row").hidden = true;
    announce("Passkey added. Give it a name so you can recognise it later.", "success");
  } catch (err) {
    changeFailed(err, "We couldn't add a passkey. Try again.");
  } finally {
    setBusy(false);
  }
}

addButton.addEventListener("click", () => void addPasskey());

$("#sign-out").addEventListener("click", () => {
  clearToken(tid, wid);
  location.assign(`${workspacePath}/login?signed_out=1`);
});

async function start() {
  if (!session) return void location.replace(signinUrl);
  if (!mode || !browserSupportsWebAuthn()) {
    addButton.hidden = true;
    const note = $("#add-unavailable");
    if (mode) note.textContent = "This browser can't create passkeys. Use another browser or device to add one.";
    note.hidden = false;
  }
  try {
    await reload();
  } catch (err) {
    if (err instanceof LeavingPage) return;
    const loading = $("#loading");
    loading.textContent = "We couldn't load your account. Reload the page to try again.";
    loading.className = "error";
    loading.setAttribute("role", "alert");
    return;
  }
  $("#loading").hidden = true;
  portal.hidden = false;
}

void start();
