/**
 * Sign-up page: GET /{tid}/{wid}/signup (linked from the sign-in page when a pool of the workspace takes sign-ups).
 * Email address → one-time code → the browser's passkey prompt → signed in, like a sign-in: with `authz` back to the
 * app's authorization, else the portal (or a same-origin `return_to`). The page's script (src/client/signup.tsx) calls
 * /{tid}/{wid}/signup/request, /webauthn/options and /webauthn/complete. 404 when the workspace offers no sign-up.
 */
import { Hono } from "hono";
import { passkeyMode } from "../domain/workspace";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { getPageWorkspace } from "../services/workspaces";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";
import { SignupView } from "./signup-view";

export const signupPages = new Hono<AppEnv>();

/** The sign-in page with what this page was given (the pending authorization, the portal's return_to). */
function signinHref(tid: string, wid: string, query: URLSearchParams): string {
  const keep = new URLSearchParams();
  for (const k of ["authz", "return_to"]) {
    const v = query.get(k);
    if (v) keep.set(k, v);
  }
  return `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/login${keep.size ? `?${keep}` : ""}`;
}

signupPages.get("/:tid/:wid/signup", async (c) => {
  const { tid, wid } = c.req.param();
  const found = await getPageWorkspace(callOf(c, tid), wid);
  if (!found || !passkeyMode(found.workspace.mechanisms) || !found.pools.some((p) => p.signUp)) {
    return c.html(
      <NotFoundPage what="sign-up page" help="Sign in instead, or ask the people who run this site how to get an account." />,
      404,
    );
  }
  const name = found.workspace.name;
  return c.html(
    <Layout title={`Create an account for ${name}`} script="signup" data={{ tid, wid }}>
      <div class="signin signup">
        <div class="card">
          <h1>Create your account</h1>
          <p class="lead">
            for <strong id="workspace-name">{name}</strong>, with a passkey instead of a password
          </p>
          <div id="signup-root">
            <SignupView
              step="address"
              button={(b) => (
                <button type={b.action === "restart" ? "button" : "submit"} class={b.primary ? "block" : "block secondary"} id={b.action}>
                  {b.label}
                </button>
              )}
              status={<Status />}
            />
          </div>
          <nav class="account-links" aria-label="Other options">
            <p>
              Already have an account? <a href={signinHref(tid, wid, new URL(c.req.url).searchParams)}>Sign in</a>
            </p>
          </nav>
        </div>
      </div>
    </Layout>,
  );
});
