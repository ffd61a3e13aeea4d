/**
 * The sign-up page's steps, shared by the server (src/pages/signup.tsx, plain buttons) and the browser
 * (src/client/signup/signup.tsx, with the page's state): the email address, then the code and the passkey. Plain JSX
 * with no hooks (compiles for hono/jsx and hono/jsx/dom).
 */
import type { Child } from "hono/jsx";

export type SignupStep = "address" | "code";

export interface SignupViewProps {
  step: SignupStep;
  /** The address the code went to (the code step). */
  address?: string;
  /** The field holding a value the page refused. */
  invalid?: "email" | "code" | null;
  /** Renders a button (the server: a plain one; the browser: one that runs its action). */
  button: (spec: { action: "send" | "create" | "restart"; label: string; primary: boolean }) => Child;
  status: Child;
  onSubmit?: (e: Event) => void;
}

const invalidOf = (p: SignupViewProps, field: "email" | "code") => (p.invalid === field ? "true" : undefined);

export const SignupView = (p: SignupViewProps) => (
  <>
    <form id="signup-address" novalidate hidden={p.step !== "address"} onSubmit={p.onSubmit}>
      <label for="email">Email address</label>
      <input
        type="email"
        id="email"
        name="email"
        autocomplete="email"
        spellcheck={false}
        maxlength={256}
        required
        aria-describedby="email-hint"
        aria-invalid={invalidOf(p, "email")}
      />
      <p class="hint" id="email-hint">
        We send a one-time code to this address. No password needed.
      </p>
      {p.button({ action: "send", label: "Send me a code", primary: true })}
    </form>
    <form id="signup-code" novalidate hidden={p.step !== "code"} onSubmit={p.onSubmit}>
      <p id="sent-to" tabindex={-1}>
        We sent a code to <strong>{p.address ?? ""}</strong>.
      </p>
      <label for="code">One-time code</label>
      <input
        type="text"
        id="code"
        name="code"
        inputmode="numeric"
        autocomplete="one-time-code"
        spellcheck={false}
        maxlength={32}
        required
        aria-describedby="code-hint"
        aria-invalid={invalidOf(p, "code")}
      />
      <p class="hint" id="code-hint">
        Then your device asks for your fingerprint, face or screen lock to create your passkey.
      </p>
      {p.button({ action: "create", label: "Create your passkey", primary: true })}
      {p.button({ action: "restart", label: "Resend the code or change the address", primary: false })}
    </form>
    {p.status}
  </>
);

/** The create button's label while the browser's prompt is open. */
export const createLabel = (busy: boolean) => (busy ? "Waiting for your device…" : "Create your passkey");
