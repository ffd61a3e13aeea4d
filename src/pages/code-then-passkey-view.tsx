/**
 * The steps of a hosted "email → one-time code → new passkey" flow (sign-up, recovery), shared by the server (the
 * flow's page module, plain buttons) and the browser (src/client/lib/code-then-passkey.tsx, with the page's state):
 * the address, then the code and the passkey. Each flow passes its own texts and ids (src/pages/signup-view.tsx,
 * src/pages/recover-view.tsx). Plain JSX with no hooks (compiles for hono/jsx and hono/jsx/dom).
 */
import type { Child } from "hono/jsx";

export type CodeStep = "address" | "code";
export type CodeAction = "send" | "create" | "restart";

/** A flow's wording and ids. */
export interface CodeThenPasskeyTexts {
  /** The ids of the two forms. */
  forms: { address: string; code: string };
  /** The address input's id and name; its hint is `${field}-hint`. */
  field: string;
  maxlength: number;
  addressHint: string;
  /** The code step's first line, about where the code went. */
  sentTo: (address: Child) => Child;
  codeHint: string;
  createLabel: string;
  restartLabel: string;
}

export interface CodeThenPasskeyViewProps {
  texts: CodeThenPasskeyTexts;
  step: CodeStep;
  /** The address the code was asked for (the code step). */
  address?: string;
  /** The field holding a value the page refused: the address field (texts.field) or "code". */
  invalid?: string | null;
  /** Renders a button (the server: a plain one; the browser: one that runs its action). */
  button: (spec: { action: CodeAction; label: string; primary: boolean }) => Child;
  status: Child;
  onSubmit?: (e: Event) => void;
}

/** The one-time code input (hint `code-hint`), also the enrollment page's; `value` only when given (even undefined). */
export const CodeInput = ({ invalid, ...value }: { value?: string; invalid?: "true" | "false" }) => (
  <input
    type="text"
    id="code"
    name="code"
    inputmode="numeric"
    autocomplete="one-time-code"
    spellcheck={false}
    maxlength={32}
    required
    {...value}
    aria-describedby="code-hint"
    aria-invalid={invalid}
  />
);

export const CodeThenPasskeyView = (p: CodeThenPasskeyViewProps) => {
  const t = p.texts;
  const invalidOf = (field: string) => (p.invalid === field ? "true" : undefined);
  return (
    <>
      <form id={t.forms.address} novalidate hidden={p.step !== "address"} onSubmit={p.onSubmit}>
        <label for={t.field}>Email address</label>
        <input
          type="email"
          id={t.field}
          name={t.field}
          autocomplete="email"
          spellcheck={false}
          maxlength={t.maxlength}
          required
          aria-describedby={`${t.field}-hint`}
          aria-invalid={invalidOf(t.field)}
        />
        <p class="hint" id={`${t.field}-hint`}>
          {t.addressHint}
        </p>
        {p.button({ action: "send", label: "Send me a code", primary: true })}
      </form>
      <form id={t.forms.code} novalidate hidden={p.step !== "code"} onSubmit={p.onSubmit}>
        <p id="sent-to" tabindex={-1}>
          {t.sentTo(<strong>{p.address ?? ""}</strong>)}
        </p>
        <label for="code">One-time code</label>
        <CodeInput invalid={invalidOf("code")} />
        <p class="hint" id="code-hint">
          {t.codeHint}
        </p>
        {p.button({ action: "create", label: t.createLabel, primary: true })}
        {p.button({ action: "restart", label: t.restartLabel, primary: false })}
      </form>
      {p.status}
    </>
  );
};

/** The create button's label; while the browser's prompt is open it says what the page waits for. */
export const createLabel = (texts: CodeThenPasskeyTexts, busy: boolean) => (busy ? "Waiting for your device…" : texts.createLabel);
