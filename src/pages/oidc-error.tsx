/**
 * Pages of the OpenID Provider's authorization endpoint that are not a form: the error page of a request that cannot
 * be sent back to its client (no valid client_id or redirect_uri: RFC 6749 §4.1.2.1, never a redirect) and the
 * signed-out page of RP-initiated logout. Server-rendered in the one Layout, no script.
 */
import type { FC } from "hono/jsx";
import { Layout } from "./layout";

export const AuthorizeErrorPage: FC<{ error: string; description: string }> = ({ error, description }) => (
  <Layout title="Sign-in request not valid">
    <div class="signin">
      <div class="card">
        <h1>This sign-in request isn't valid</h1>
        <p>
          The app that sent you here made a request we can't answer, so we can't send you back to it. Go back to the app and try again, or
          tell its developers.
        </p>
        <p class="hint">
          <code>{error}</code>: {description}
        </p>
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
