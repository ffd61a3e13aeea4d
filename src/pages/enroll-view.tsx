/**
 * The enrollment-link page's step and its "ready" message, shared by the server (src/pages/enroll.tsx, plain button)
 * and the browser (src/client/enroll/enroll.tsx, with the page's state). Plain JSX with no hooks.
 */
import type { Child } from "hono/jsx";
import { CodeInput } from "./code-then-passkey-view";

export interface EnrollViewProps {
  workspaceName: string;
  isAdmin: boolean;
  signinUrl: string;
  /** The code from the link (digits only), or "". */
  code: string;
  /** The "Create a passkey" button (the server: a plain one; the browser: one that runs the enrollment). */
  button: Child;
  busy?: boolean;
  done?: boolean;
  /** The code field: "true" (refused), "false" (checked) or unset. */
  invalid?: "true" | "false";
  status: Child;
  onSubmit?: (e: Event) => void;
}

export const EnrollView = (p: EnrollViewProps) => (
  <>
    <div id="enroll-step" hidden={p.done}>
      <p>
        Create the passkey you will use to sign in to <strong>{p.workspaceName}</strong>. Your device keeps it and asks for your
        fingerprint, face or screen lock; there is no password to remember.
      </p>
      <form id="enroll-form" novalidate aria-busy={p.busy === undefined ? undefined : String(p.busy)} onSubmit={p.onSubmit}>
        <label for="code">One-time code</label>
        <CodeInput value={p.code} invalid={p.invalid} />
        <p class="hint" id="code-hint">
          The code from your enrollment message. It works once and expires after a few minutes.
        </p>
        {p.button}
      </form>
    </div>
    <div id="enroll-done" hidden={!p.done}>
      <h2 id="done-title" tabindex={-1}>
        Your passkey is ready
      </h2>
      <p>From now on, sign in with it: your device asks for your fingerprint, face or screen lock.</p>
      <a class="button" href={p.signinUrl} id="signin-link">
        {p.isAdmin ? "Sign in to the admin console" : "Sign in"}
      </a>
    </div>
    {p.status}
  </>
);

/** The label of the create button: while the browser's prompt is open it says what the page waits for. */
export const createLabel = (busy: boolean) => (busy ? "Waiting for your device…" : "Create a passkey");
