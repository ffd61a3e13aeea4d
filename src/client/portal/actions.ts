/**
 * The portal's changes: rename, delete (after the dialog) and add a passkey. Each runs inside the page's busy state
 * (lib/busy.tsx), confirms the user first when needed (lib/portal-reauth.ts), reloads the list, says the outcome in
 * the live region and names where focus goes next.
 */
import { startRegistration } from "@simplewebauthn/browser";
import type { z } from "@hono/zod-openapi";
import type { CreationOptions } from "../../api/webauthn";
import { ApiFailure } from "../lib/api";
import { LAST_PASSKEY_REASON, nameProblem, type PasskeyView } from "../lib/passkey-view";
import { signalAcceptedCredentials } from "../lib/signal";
import { withRecentAuth } from "../lib/portal-reauth";
import { changeFailed } from "./messages";
import { LeavingPage, type Me, type PortalPage, recentAuth, selfApi } from "./self";
import type { Say } from "../lib/status";

/** What the actions need from the portal component. */
export interface PortalCtx {
  page: PortalPage;
  me: Me | null;
  passkeys: PasskeyView[];
  say: Say;
  setSigninAgain(on: boolean): void;
  setEditing(id: string | null): void;
  setInvalid(on: boolean): void;
  /** Focuses the element matching the selector once the page is idle again (after the next render). */
  focusAfter(selector: string): void;
  /** Fetches the user again and shows it; resolves to the new list. */
  reload(): Promise<PasskeyView[]>;
  /** The same, resolving to the user (with its WebAuthn identity, for the Signal API). */
  reloadMe(): Promise<Me>;
  /** Shows the passkey's name in the delete dialog, opens it, and resolves to true when the user confirms. */
  confirmDelete(p: PasskeyView): Promise<boolean>;
}

const renameButton = (id: string) => `button[data-rename="${CSS.escape(id)}"]`;
const passkeyPath = (p: PasskeyView) => `/webauthn/${encodeURIComponent(p.id)}`;

function failed(ctx: PortalCtx, err: unknown, fallback: string) {
  if (err instanceof LeavingPage) return;
  const outcome = changeFailed(err, fallback);
  ctx.setSigninAgain(outcome.signinAgain);
  ctx.say(outcome.message, outcome.kind);
}

const auth = (ctx: PortalCtx) => recentAuth(ctx.page, ctx.me, ctx.passkeys, (m) => ctx.say(m));

export function editName(ctx: PortalCtx, id: string | null, current: string | null) {
  ctx.setEditing(id);
  ctx.setInvalid(false);
  ctx.say("");
  if (id) {
    ctx.setSigninAgain(false);
    ctx.focusAfter(`#rename-${ctx.passkeys.findIndex((p) => p.id === id)}`);
  } else if (current) ctx.focusAfter(renameButton(current));
}

export async function renamePasskey(ctx: PortalCtx, p: PasskeyView, value: string) {
  const problem = nameProblem(value);
  if (problem) {
    ctx.setInvalid(true);
    ctx.focusAfter(`#rename-${ctx.passkeys.indexOf(p)}`);
    return ctx.say(problem, "error");
  }
  const name = value.trim().normalize("NFC");
  try {
    await withRecentAuth(auth(ctx), () => selfApi(ctx.page, "PUT", `${passkeyPath(p)}/name`, { name }));
    ctx.setEditing(null);
    await ctx.reload();
    ctx.focusAfter(renameButton(p.id));
    ctx.setSigninAgain(false);
    ctx.say(`Passkey renamed to “${name}”.`, "success");
  } catch (err) {
    failed(ctx, err, "We couldn't rename this passkey. Try again.");
    if (err instanceof ApiFailure && err.code === "not_found") await ctx.reload().catch(() => undefined);
  }
}

export async function removePasskey(ctx: PortalCtx, p: PasskeyView) {
  if (ctx.passkeys.length <= 1) return ctx.say(LAST_PASSKEY_REASON, "error");
  if (!(await ctx.confirmDelete(p))) return ctx.focusAfter(`button[data-delete="${CSS.escape(p.id)}"]`);
  try {
    await withRecentAuth(auth(ctx), () => selfApi(ctx.page, "DELETE", passkeyPath(p)));
    // The browser's provider may hide the deleted passkey: the user's remaining ones (Signal API, where supported).
    await signalAcceptedCredentials(await ctx.reloadMe());
    ctx.focusAfter("#passkeys-title");
    ctx.setSigninAgain(false);
    ctx.say(`Passkey “${p.label}” deleted.`, "success");
  } catch (err) {
    failed(ctx, err, "We couldn't delete this passkey. Try again.");
    if (err instanceof ApiFailure && (err.code === "not_found" || err.code === "last_credential"))
      await ctx.reload().catch(() => undefined);
  }
}

export async function addPasskey(ctx: PortalCtx) {
  if (!ctx.page.mode) return;
  const segment = ctx.page.mode === "smart" ? "usernameless-webauthn" : "webauthn";
  const before = new Set(ctx.passkeys.map((p) => p.id));
  ctx.setEditing(null);
  try {
    await withRecentAuth(auth(ctx), async () => {
      const begin = await selfApi<z.infer<typeof CreationOptions>>(ctx.page, "POST", `/${segment}/create/begin`);
      ctx.say("Follow your browser's prompt to create the passkey.");
      const response = await startRegistration({
        optionsJSON: begin.publicKey as unknown as Parameters<typeof startRegistration>[0]["optionsJSON"],
      });
      return selfApi(ctx.page, "POST", `/${segment}/create/complete`, response);
    });
    const added = (await ctx.reload()).find((p) => !before.has(p.id));
    if (added) ctx.focusAfter(renameButton(added.id));
    ctx.setSigninAgain(false);
    ctx.say("Passkey added. Give it a name so you can recognise it later.", "success");
  } catch (err) {
    failed(ctx, err, "We couldn't add a passkey. Try again.");
  }
}
