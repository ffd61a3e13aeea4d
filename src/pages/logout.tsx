/**
 * Pages of RP-initiated logout (GET|POST /{tid}/{wid}/oidc/logout, services/oidc-authorize.ts logout / answerLogout):
 * the confirmation asked before a session ends without an id_token_hint naming it, the signed-out page, and the page
 * of "Stay signed in". Plain forms, no script, in the one Layout. The route sends the confirmation with a strict CSP
 * whose form-action allows this origin and the post-logout redirect target (the answer redirects there).
 */
import type { FC } from "hono/jsx";
import type { LogoutView } from "../services/oidc-authorize";
import { Layout } from "./layout";

const Hidden: FC<{ name: string; value: string | null }> = ({ name, value }) =>
  value === null ? null : <input type="hidden" name={name} value={value} />;

export const LogoutConfirmPage: FC<{ view: LogoutView; action: string }> = ({ view, action }) => (
  <Layout title={`Sign out of ${view.workspaceName}?`}>
    <div class="signin">
      <div class="card">
        <h1>Sign out of {view.workspaceName}?</h1>
        <p class="lead">
          {view.clientName ? (
            <>
              <strong>{view.clientName}</strong> asked to sign you out of {view.workspaceName}.
            </>
          ) : (
            <>A page asked to sign you out of {view.workspaceName}.</>
          )}
        </p>
        <p>Signing out here signs you out of every app that uses this sign-in, not only this one.</p>
        <form method="post" action={action} id="logout-form">
          <input type="hidden" name="csrf" value={view.csrf} />
          <Hidden name="client_id" value={view.clientId} />
          <Hidden name="post_logout_redirect_uri" value={view.postLogoutRedirectUri} />
          <Hidden name="state" value={view.state} />
          <button type="submit" name="decision" value="logout" id="logout-confirm" class="block">
            Sign out
          </button>
          <button type="submit" name="decision" value="stay" id="logout-stay" class="block secondary">
            Stay signed in
          </button>
        </form>
      </div>
    </div>
  </Layout>
);

export const SignedOutPage: FC = () => (
  <Layout title="Signed out">
    <div class="signin">
      <div class="card">
        <h1>You're signed out</h1>
        <p>You can close this window, or go back to the app you came from.</p>
      </div>
    </div>
  </Layout>
);

export const StillSignedInPage: FC = () => (
  <Layout title="Still signed in">
    <div class="signin">
      <div class="card">
        <h1>You're still signed in</h1>
        <p>Nothing changed. You can close this window, or go back to the app you came from.</p>
      </div>
    </div>
  </Layout>
);
