/**
 * The error page of the OpenID Provider's browser endpoints: a request that cannot be sent back to its client (no
 * valid client_id or redirect_uri: RFC 6749 §4.1.2.1, never a redirect), a consent or logout form that is not valid,
 * a logout request that names no registered target. Server-rendered in the one Layout, no script. The logout pages
 * are in logout.tsx.
 */
import type { FC } from "hono/jsx";
import { Layout } from "./layout";

/** `request`: what the app asked for, in the page's words ("sign-in" by default, "sign-out" for logout). */
export const AuthorizeErrorPage: FC<{ error: string; description: string; request?: "sign-in" | "sign-out" }> = ({
  error,
  description,
  request = "sign-in",
}) => (
  <Layout title={request === "sign-in" ? "Sign-in request not valid" : "Sign-out request not valid"}>
    <div class="signin">
      <div class="card">
        <h1>This {request} request isn't valid</h1>
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
