/**
 * Recovery page ("Lost your passkey?"): GET /{tid}/{wid}/recover, linked from the sign-in page when a pool of the
 * workspace has recovery on. Address → one-time code → the browser's passkey prompt → signed in, like a sign-in: with
 * `authz` back to the app's authorization, else the portal (or a same-origin `return_to`). The page's script
 * (src/client/recover.tsx) calls /{tid}/{wid}/recover/request, /webauthn/options and /webauthn/complete. 404 when the
 * workspace offers no recovery.
 */
import { Hono } from "hono";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { offersRecovery } from "../services/recovery";
import { getPageWorkspace } from "../services/workspaces";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";
import { RecoverView } from "./recover-view";

export const recoverPages = new Hono<AppEnv>();

/** The sign-in page with what this page was given (the pending authorization, the portal's return_to). */
function signinHref(tid: string, wid: string, query: URLSearchParams): string {
  const keep = new URLSearchParams();
  for (const k of ["authz", "return_to"]) {
    const v = query.get(k);
    if (v) keep.set(k, v);
  }
  return `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/login${keep.size ? `?${keep}` : ""}`;
}

recoverPages.get("/:tid/:wid/recover", async (c) => {
  const { tid, wid } = c.req.param();
  const found = await getPageWorkspace(callOf(c, tid), wid);
  if (!offersRecovery(found)) {
    return c.html(<NotFoundPage what="recovery page" help="Sign in instead, or ask your administrator to help you get back in." />, 404);
  }
  const name = found.workspace.name;
  return c.html(
    <Layout title={`Recover your account for ${name}`} script="recover" data={{ tid, wid }}>
      <div class="signin recover">
        <div class="card">
          <h1>Lost your passkey?</h1>
          <p class="lead">
            Get back into <strong id="workspace-name">{name}</strong> with a code to your email and a new passkey
          </p>
          <div id="recover-root">
            <RecoverView
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
              Found your passkey? <a href={signinHref(tid, wid, new URL(c.req.url).searchParams)}>Back to sign-in</a>
            </p>
          </nav>
        </div>
      </div>
    </Layout>,
  );
});
