/**
 * The portal's markup, shared by the server and the browser: src/pages/account.tsx renders it with no user (the
 * shell: loading text, hidden portal, the delete dialog), src/client/portal/portal.tsx renders it with the user's
 * passkeys and the page's state. Plain JSX with no hooks, so it compiles for hono/jsx (server) and hono/jsx/dom.
 */
import type { Child, RefObject } from "hono/jsx";

export interface PortalViewProps {
  /** Where "Sign in again" goes (the sign-in page, return_to this page). */
  signinAgainHref: string;
  /** The workspace offers a passkey mode (passkeys sign in) rather than only a passkey second factor. */
  passkeyMode: boolean;
  /** "loading", "failed" (the account could not be loaded) or "ready" (the portal shows). */
  phase: "loading" | "failed" | "ready";
  identifier?: string;
  signOut?: Child;
  addPasskey?: Child;
  /** Why adding is not offered here, or null when it is. */
  addUnavailable?: string | null;
  status?: Child;
  signinAgain?: boolean;
  /** The number of passkeys; the table shows when there is one or more. */
  count?: number;
  rows?: Child;
  dialog?: Child;
}

const Loading = ({ phase }: { phase: PortalViewProps["phase"] }) =>
  phase === "failed" ? (
    <p id="loading" class="error" role="alert">
      We couldn't load your account. Reload the page to try again.
    </p>
  ) : (
    <p id="loading" class="hint" role="status" hidden={phase === "ready"}>
      Loading your account…
    </p>
  );

const PasskeyTable = ({ count, rows }: { count: number; rows?: Child }) => (
  <table id="passkey-table" hidden={count === 0}>
    <caption class="visually-hidden">Your passkeys</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Authenticator</th>
        <th scope="col">Sync</th>
        <th scope="col">Created</th>
        <th scope="col">Last used</th>
        <th scope="col">
          <span class="visually-hidden">Actions</span>
        </th>
      </tr>
    </thead>
    <tbody id="passkey-rows">{rows}</tbody>
  </table>
);

const PasskeysSection = (p: PortalViewProps) => (
  <section class="card" aria-labelledby="passkeys-title">
    <div class="section-head">
      <h2 id="passkeys-title" tabindex={-1}>
        Passkeys
      </h2>
      {p.addPasskey}
    </div>
    <p class="hint">
      {p.passkeyMode
        ? "Sign in with your fingerprint, face or screen lock instead of a password. Add a passkey on each device you use, so losing one doesn't lock you out."
        : "Your passkeys confirm it's you after your password when you sign in."}
    </p>
    <p id="add-unavailable" class="hint" hidden={!p.addUnavailable}>
      {p.addUnavailable}
    </p>
    {p.status}
    <p id="signin-again-row" hidden={!p.signinAgain}>
      <a id="signin-again" class="button secondary" href={p.signinAgainHref}>
        Sign in again
      </a>
    </p>
    <p id="empty" class="empty" hidden={p.phase !== "ready" || (p.count ?? 0) > 0}>
      You have no passkeys yet. Add one to sign in without a password.
    </p>
    <PasskeyTable count={p.count ?? 0} rows={p.rows} />
  </section>
);

export const PortalView = (p: PortalViewProps) => (
  <>
    <Loading phase={p.phase} />
    <div id="portal" hidden={p.phase !== "ready"}>
      <section class="card profile" aria-labelledby="profile-title">
        <div>
          <h2 id="profile-title">Signed in as</h2>
          <p id="user-identifier" class="identity">
            {p.identifier}
          </p>
        </div>
        {p.signOut}
      </section>
      <PasskeysSection {...p} />
    </div>
    {p.dialog}
  </>
);

/** The delete confirmation. The server renders it empty; the browser gives it the passkey's name and a ref to open it. */
export const DeleteDialog = ({ name, dialogRef }: { name?: string; dialogRef?: RefObject<unknown> }) => (
  <dialog id="delete-dialog" aria-labelledby="delete-title" aria-describedby="delete-description" ref={dialogRef}>
    <form method="dialog">
      <h2 id="delete-title">Delete this passkey?</h2>
      <p id="delete-description">
        You won't be able to sign in with <strong id="delete-name">{name}</strong> any more. If it's stored in a password manager, remove it
        there too.
      </p>
      <div class="row end">
        <button type="submit" value="cancel" class="secondary" autofocus>
          Cancel
        </button>
        <button type="submit" value="delete" id="delete-confirm" class="danger">
          Delete passkey
        </button>
      </div>
    </form>
  </dialog>
);
