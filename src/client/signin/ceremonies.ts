/**
 * The sign-in page's ceremonies, apart from the markup: the Smart one-tap passkey, Classic username-then-passkey,
 * password (then the passkey second factor), and passkey autofill (conditional mediation) on the username field.
 * The component (signin.tsx) gives it `ui`: the live region, the busy state, the step and focus.
 */
import type { z } from "@hono/zod-openapi";
import {
  type AuthenticationResponseJSON,
  browserSupportsWebAuthnAutofill,
  type PublicKeyCredentialRequestOptionsJSON,
  startAuthentication,
  WebAuthnAbortService,
} from "@simplewebauthn/browser";
import type { SelfUser } from "../../api/self";
import type { OptionsResponse, TokenOrNext } from "../../api/signin";
import { ApiFailure, api } from "../lib/api";
import { safeReturnTo, saveToken } from "../lib/session";
import { signalAfterSignin, signalUnknownCredential } from "../lib/signal";
import { isCeremonyAbort, signinMessage } from "../lib/signin-messages";
import type { Say } from "../lib/status";
import type { PageConfig, PageMethod } from "../../pages/signin-view";
import { upgradeToPasskey } from "./upgrade";

type Result = z.infer<typeof TokenOrNext>;
type Tokens = Extract<Result, { access_token: string }>;
type Options = z.infer<typeof OptionsResponse>;

export interface SigninUi {
  say: Say;
  /** Runs fn in the page's busy state (no button of its own). */
  run(action: string, fn: () => Promise<void>): Promise<void>;
  setSecondStep(on: boolean): void;
  setInvalid(field: "identifier" | "password" | null): void;
  focusAfter(selector: string): void;
  /** Signed in: the buttons stay disabled while the next page loads. */
  leave(): void;
  /** Passkey upgrade (upgrade.tsx): shows the one-click offer and resolves to the user's choice. */
  offerPasskey(): Promise<boolean>;
}

export interface SigninPage {
  tid: string;
  wid: string;
  cfg: PageConfig;
}

const MAX_AUTOFILL_FAILURES = 3;
const input = (id: string) => document.getElementById(id) as HTMLInputElement | null;
const optionsJSON = (o: Options) => o.publicKey as unknown as PublicKeyCredentialRequestOptionsJSON;
/** The pending OpenID Connect authorization this page serves (?authz=), sent with the finishing calls. */
const authz = () => new URLSearchParams(location.search).get("authz") ?? undefined;

/** One page's ceremonies (create it once per page load). */
export class SigninCeremonies {
  private readonly base: string;
  private readonly passwordOffered: boolean;
  /** Bumped by every ceremony the user starts; a pending autofill request that sees another number gives up. */
  private generation = 0;
  private running = false;
  private autofillFailures = 0;
  /** The sign-in transaction of the password sign-in that waits for its passkey step. */
  private pendingSigninId: string | null = null;

  constructor(
    private readonly page: SigninPage,
    private readonly ui: SigninUi,
  ) {
    this.base = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/login`;
    this.passwordOffered = page.cfg.methods.includes("password");
  }

  private fail(err: unknown) {
    this.ui.say(signinMessage(err, { passwordOffered: this.passwordOffered }), "error");
  }

  private async finish(opts: Options, credential: AuthenticationResponseJSON) {
    try {
      return await api<Result>("POST", `${this.base}/webauthn/finish`, { login_id: opts.login_id, credential, authz: authz() });
    } catch (err) {
      // A passkey the server does not know (deleted here): the browser's provider may stop offering it (Signal API).
      if (err instanceof ApiFailure && err.details.unknown_credential === true)
        await signalUnknownCredential(optionsJSON(opts).rpId, credential.id);
      throw err;
    }
  }

  /** Signed in: the passkey upgrade when the password answer offers it, the Signal API's user signals, then onwards. */
  private async done({ access_token: accessToken, continue_url: continueUrl, passkey_upgrade: upgrade }: Tokens) {
    const { tid, wid } = this.page;
    this.ui.leave();
    if (upgrade) {
      this.ui.say("You're signed in.", "success");
      await upgradeToPasskey(this.page, accessToken, this.ui);
    }
    const me = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/identity/v2/self/me`;
    await signalAfterSignin(() => api<z.infer<typeof SelfUser>>("GET", me, undefined, accessToken));
    // An app's sign-in (OpenID Connect): back to the authorization, which returns to the app.
    const next = safeReturnTo(continueUrl ?? null);
    if (next) {
      this.ui.say("You're signed in. Taking you back to the app…", "success");
      return location.assign(next);
    }
    saveToken(tid, wid, accessToken);
    this.ui.say("You're signed in. Taking you to your account…", "success");
    const account = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/account`;
    location.assign(safeReturnTo(new URLSearchParams(location.search).get("return_to")) ?? account);
  }

  private showSecondFactor(signinId: string) {
    this.pendingSigninId = signinId;
    this.generation++;
    WebAuthnAbortService.cancelCeremony(); // the username field (and its autofill) goes away
    this.ui.setSecondStep(true);
    this.ui.say("Password accepted. Now confirm it's you with your passkey.", "success");
    this.ui.focusAfter("#second-factor-title");
  }

  /** Either tokens (signed in), the passkey step (after the password), or a step this page cannot do. */
  private async handleResult(result: Result) {
    if ("access_token" in result) return this.done(result);
    if (result.next.includes("webauthn")) return this.showSecondFactor(result.login_id);
    this.ui.say("Your account needs another sign-in step that this page can't do yet. Ask your administrator.", "error");
  }

  /** Runs a ceremony the user started: a pending autofill request gives up (the generation moves on). */
  private async userCeremony(message: string, fn: () => Promise<void>, onError: (err: unknown) => void) {
    this.generation++;
    this.running = true;
    this.ui.say(message);
    try {
      await fn();
    } catch (err) {
      onError(err);
    } finally {
      this.running = false;
    }
  }

  /** A passkey sign-in with the modal prompt: options, the browser's prompt, finish. */
  private passkeySignIn(body: Record<string, string>) {
    return this.userCeremony(
      "Waiting for your passkey…",
      async () => {
        const opts = await api<Options>("POST", `${this.base}/webauthn/options`, body);
        // Starting a new ceremony aborts the pending autofill request (WebAuthnAbortService).
        const credential = await startAuthentication({ optionsJSON: optionsJSON(opts) });
        await this.handleResult(await this.finish(opts, credential));
      },
      (err) => {
        if (isCeremonyAbort(err)) this.ui.say("");
        else this.fail(err);
        void this.armAutofill();
      },
    );
  }

  /**
   * Passkey autofill (Smart): a conditional request that the browser answers when the user picks a passkey from the
   * username field's suggestions. It is aborted by any ceremony the user starts; then it gives up silently and is
   * armed again when that ceremony ends without signing in. A conditional request that the browser refuses by itself
   * is not retried (no loop of requests), and a failed sign-in through it is retried a few times at most.
   */
  async armAutofill() {
    if (this.page.cfg.mode !== "smart" || !input("identifier") || this.pendingSigninId) return;
    if (this.autofillFailures >= MAX_AUTOFILL_FAILURES || !(await browserSupportsWebAuthnAutofill())) return;
    const mine = ++this.generation;
    let credential: AuthenticationResponseJSON;
    let opts: Options;
    try {
      opts = await api<Options>("POST", `${this.base}/webauthn/options`, {});
      if (mine !== this.generation || this.running) return; // the user started something else meanwhile
      credential = await startAuthentication({ optionsJSON: optionsJSON(opts), useBrowserAutofill: true });
    } catch {
      // Aborted by a newer ceremony, or refused by the browser without the user: nothing to tell the user.
      if (mine === this.generation) this.autofillFailures = MAX_AUTOFILL_FAILURES;
      return;
    }
    if (mine !== this.generation) return;
    await this.ui.run("autofill", () => this.finishAutofill(opts, credential));
  }

  private async finishAutofill(opts: Options, credential: AuthenticationResponseJSON) {
    this.ui.say("Checking your passkey…");
    try {
      await this.handleResult(await this.finish(opts, credential));
    } catch (err) {
      this.autofillFailures++;
      this.fail(err);
      setTimeout(() => void this.armAutofill(), 0);
    }
  }

  private async passwordSignIn() {
    const identifier = input("identifier");
    const password = input("password");
    if (!identifier || !password) return;
    if (!identifier.value.trim()) return this.invalid("identifier", "Enter your email or username.");
    if (!password.value) return this.invalid("password", "Enter your password.");
    WebAuthnAbortService.cancelCeremony();
    const body = { identifier: identifier.value.trim(), password: password.value, authz: authz() };
    await this.userCeremony(
      "Signing you in…",
      async () => this.handleResult(await api<Result>("POST", `${this.base}/password`, body)),
      (err) => {
        this.fail(err);
        password.value = "";
        if (!this.pendingSigninId) void this.armAutofill();
      },
    );
  }

  private invalid(field: "identifier" | "password", message: string) {
    this.ui.setInvalid(field);
    this.ui.focusAfter(`#${field}`);
    this.ui.say(message, "error");
  }

  /** A submit of the form: Enter in the password field means the password, whichever button comes first in the form. */
  async submit(method: PageMethod) {
    this.ui.setInvalid(null);
    const password = input("password");
    const chosen = document.activeElement === password && password?.value ? "password" : method;
    if (chosen === "password") return this.passwordSignIn();
    if (this.page.cfg.mode === "smart") return this.passkeySignIn({});
    const identifier = input("identifier")?.value.trim();
    if (!identifier) return this.invalid("identifier", "Enter your email or username, then continue with your passkey.");
    return this.passkeySignIn({ identifier });
  }

  /** Smart: the one-tap button needs no username. */
  oneTap() {
    return this.passkeySignIn({});
  }

  async secondFactor() {
    if (this.pendingSigninId) await this.passkeySignIn({ login_id: this.pendingSigninId });
  }

  startOver() {
    this.pendingSigninId = null;
    this.ui.setSecondStep(false);
    const password = input("password");
    if (password) password.value = "";
    this.ui.say("");
    this.ui.focusAfter(input("identifier") ? "#identifier" : "#passkey-button");
    void this.armAutofill();
  }
}
