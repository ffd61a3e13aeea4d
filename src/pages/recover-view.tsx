/**
 * The recovery page's steps ("Lost your passkey?"), shared by the server (src/pages/recover.tsx, plain buttons) and the
 * browser (src/client/recover/recover.tsx, with the page's state): the address, then the code and the new passkey.
 * Plain JSX with no hooks (compiles for hono/jsx and hono/jsx/dom).
 */
import type { Child } from "hono/jsx";

export type RecoverStep = "address" | "code";
export type RecoverAction = "send" | "create" | "restart";

export interface RecoverViewProps {
  step: RecoverStep;
  /** The address the code was asked for (the code step). */
  address?: string;
  /** The field holding a value the page refused. */
  invalid?: "address" | "code" | null;
  /** Renders a button (the server: a plain one; the browser: one that runs its action). */
  button: (spec: { action: RecoverAction; label: string; primary: boolean }) => Child;
  status: Child;
  onSubmit?: (e: Event) => void;
}

const invalidOf = (p: RecoverViewProps, field: "address" | "code") => (p.invalid === field ? "true" : undefined);

export const RecoverView = (p: RecoverViewProps) => (
  <>
    <form id="recover-address" novalidate hidden={p.step !== "address"} onSubmit={p.onSubmit}>
      <label for="address">Email address</label>
      <input
        type="email"
        id="address"
        name="address"
        autocomplete="email"
        spellcheck={false}
        maxlength={320}
        required
        aria-describedby="address-hint"
        aria-invalid={invalidOf(p, "address")}
      />
      <p class="hint" id="address-hint">
        The verified address of your account. We send a one-time code there, then you create a new passkey.
      </p>
      {p.button({ action: "send", label: "Send me a code", primary: true })}
    </form>
    <form id="recover-code" novalidate hidden={p.step !== "code"} onSubmit={p.onSubmit}>
      <p id="sent-to" tabindex={-1}>
        If <strong>{p.address ?? ""}</strong> belongs to an account, we sent it a code.
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
        Then your device asks for your fingerprint, face or screen lock to create the new passkey. Your other passkeys stay on your account.
      </p>
      {p.button({ action: "create", label: createLabel(false), primary: true })}
      {p.button({ action: "restart", label: "Use another address or get a new code", primary: false })}
    </form>
    {p.status}
  </>
);

/** The create button's label; while the browser's prompt is open it says what the page waits for. */
export const createLabel = (busy: boolean) => (busy ? "Waiting for your device…" : "Create a new passkey");
