/**
 * The sign-in page's interactive part (no-passkeys warning, first step, passkey second factor, live region), shared
 * by the server and the browser: src/pages/signin.tsx renders it with plain buttons, src/client/signin/signin.tsx
 * renders it again with the page's state and busy buttons. Plain JSX with no hooks (compiles for hono/jsx and
 * hono/jsx/dom).
 */
import type { Child } from "hono/jsx";
import type { PasskeyMode } from "../domain/vocabulary";

/** The sign-in methods the hosted page offers. */
export type PageMethod = "passkey" | "password";

export interface PageConfig {
  mode: PasskeyMode | null;
  /** Methods the hosted page offers, preferred first. */
  methods: PageMethod[];
  preferred: PageMethod | null;
}

/** What a button does: the Smart one-tap passkey, a submit of the form (its value), the second factor, start over. */
export type ButtonAction = "passkey" | "submit-passkey" | "submit-password" | "second-factor" | "start-over";

export interface ButtonSpec {
  action: ButtonAction;
  type: "button" | "submit";
  class: string;
  id?: string;
  value?: PageMethod;
  describedBy?: string;
  label: string;
  hidden?: boolean;
}

export interface SigninViewProps {
  cfg: PageConfig;
  /** Renders a button (the server: a plain one; the browser: one that runs its action). */
  button: (spec: ButtonSpec) => Child;
  /** The browser has no passkeys (WebAuthn): the warning shows and the passkey buttons step aside. */
  noPasskeys?: boolean;
  secondStep?: boolean;
  /** Signed in, and the page offers something before it leaves (the passkey upgrade): the sign-in forms step aside. */
  signedIn?: boolean;
  /** The field holding a value the page refused. */
  invalid?: "identifier" | "password" | null;
  /** Values typed before the browser code ran. */
  values?: { identifier?: string; password?: string };
  status: Child;
  /** The browser's form handler (it keeps the form from submitting itself; the buttons run the sign-in). */
  onSubmit?: (e: Event) => void;
}

const block = (primary: boolean) => `block${primary ? "" : " secondary"}`;

const Divider = ({ text }: { text: string }) => (
  <p class="or">
    <span>{text}</span>
  </p>
);

const IdentifierField = ({ autofill, p }: { autofill: boolean; p: SigninViewProps }) => (
  <>
    <label for="identifier">Email or username</label>
    <input
      id="identifier"
      name="identifier"
      type="text"
      inputmode="email"
      autocapitalize="none"
      spellcheck={false}
      autocomplete={autofill ? "username webauthn" : "username"}
      aria-describedby="identifier-hint"
      aria-invalid={p.invalid === "identifier" ? "true" : undefined}
      value={p.values?.identifier}
    />
    <p class="hint" id="identifier-hint">
      {autofill ? "Your browser may offer your passkey when you select this field." : "The email address or username of your account."}
    </p>
  </>
);

const PasswordField = ({ p }: { p: SigninViewProps }) => (
  <>
    <label for="password">Password</label>
    <input
      id="password"
      name="password"
      type="password"
      autocomplete="current-password"
      aria-invalid={p.invalid === "password" ? "true" : undefined}
      value={p.values?.password}
    />
  </>
);

/** Smart mode: a one-tap passkey button (no username), and the username field with passkey autofill. */
const SmartStart = ({ p }: { p: SigninViewProps }) => {
  const password = p.cfg.methods.includes("password");
  const passkeyFirst = p.cfg.preferred !== "password";
  const passkey = (
    <div class="method" id="passkey-method">
      {p.button({
        action: "passkey",
        type: "button",
        id: "passkey-button",
        class: block(passkeyFirst),
        describedBy: "passkey-hint",
        label: "Sign in with a passkey",
      })}
      <p class="hint" id="passkey-hint">
        Use your fingerprint, face or screen lock. No username needed.
      </p>
    </div>
  );
  const method = password ? "password" : "passkey";
  const form = (
    <form id="signin-form" class="method" novalidate onSubmit={p.onSubmit}>
      <IdentifierField autofill p={p} />
      {password && <PasswordField p={p} />}
      {p.button({
        action: `submit-${method}`,
        type: "submit",
        value: method,
        class: block(!passkeyFirst),
        label: password ? "Sign in with password" : "Continue",
      })}
    </form>
  );
  const divider = <Divider text={!passkeyFirst ? "or" : password ? "or use your password" : "or"} />;
  return passkeyFirst ? (
    <>
      {passkey}
      {divider}
      {form}
    </>
  ) : (
    <>
      {form}
      {divider}
      {passkey}
    </>
  );
};

/** Classic mode: username first, then the passkey prompt (or the password). Password-only workspaces too. */
const UsernameFirstStart = ({ p }: { p: SigninViewProps }) => {
  const password = p.cfg.methods.includes("password");
  const passkey = p.cfg.methods.includes("passkey");
  const passkeyButton = (primary: boolean) =>
    p.button({
      action: "submit-passkey",
      type: "submit",
      value: "passkey",
      id: "passkey-button",
      class: block(primary),
      label: "Continue with a passkey",
    });
  const passwordPart = (primary: boolean) => (
    <>
      <PasswordField p={p} />
      {p.button({
        action: "submit-password",
        type: "submit",
        value: "password",
        class: block(primary),
        label: passkey ? "Sign in with password" : "Sign in",
      })}
    </>
  );
  return (
    <form id="signin-form" class="method" novalidate onSubmit={p.onSubmit}>
      <IdentifierField autofill={false} p={p} />
      {passkey && p.cfg.preferred === "passkey" && (
        <>
          {passkeyButton(true)}
          {password && <Divider text="or use your password" />}
          {password && passwordPart(false)}
        </>
      )}
      {password && p.cfg.preferred === "password" && (
        <>
          {passwordPart(true)}
          {passkey && <Divider text="or" />}
          {passkey && passkeyButton(false)}
        </>
      )}
    </form>
  );
};

const SecondFactor = ({ p }: { p: SigninViewProps }) => (
  <section id="second-factor" aria-labelledby="second-factor-title" hidden={!p.secondStep}>
    <h2 id="second-factor-title" tabindex={-1}>
      Confirm it's you
    </h2>
    <p>To finish signing in, use your passkey: your fingerprint, face, screen lock or security key.</p>
    {p.button({ action: "second-factor", type: "button", id: "second-factor-button", class: "block", label: "Continue with a passkey" })}
    {p.button({ action: "start-over", type: "button", id: "start-over", class: "block secondary", label: "Start over" })}
  </section>
);

export const SigninView = (props: SigninViewProps) => {
  // Without WebAuthn, every passkey button steps aside (the warning above says why).
  const p: SigninViewProps = {
    ...props,
    button: (b) => props.button(props.noPasskeys && (b.id === "passkey-button" || b.value === "passkey") ? { ...b, hidden: true } : b),
  };
  return (
    <>
      <p id="no-passkeys" class="warning" hidden={!p.noPasskeys}>
        This browser can't use passkeys.
        {p.cfg.methods.includes("password") ? " Sign in with your password instead." : " Try another browser or device."}
      </p>
      <div id="first-step" hidden={p.secondStep || p.signedIn}>
        {p.cfg.methods.length === 0 ? (
          <p class="warning">No sign-in method is available in this workspace yet. Ask your administrator.</p>
        ) : p.cfg.mode === "smart" ? (
          <SmartStart p={p} />
        ) : (
          <UsernameFirstStart p={p} />
        )}
      </div>
      <SecondFactor p={p} />
      {p.status}
    </>
  );
};

/** The server's buttons: the same markup, without behaviour (the browser code renders its own). */
export const plainButton = (b: ButtonSpec) => (
  <button
    type={b.type}
    id={b.id}
    name={b.type === "submit" ? "method" : undefined}
    value={b.value}
    class={b.class}
    aria-describedby={b.describedBy}
    hidden={b.hidden}
  >
    {b.label}
  </button>
);
