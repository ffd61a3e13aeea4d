/**
 * Enrollment-link page: GET /{tid}/{wid}/enroll?user=<id>&code=<code>. A user who received a one-time code creates a
 * passkey here (the first administrator too, at /{tid}/admin/enroll). The page's script calls
 * /{tid}/{wid}/enroll/webauthn/options and /complete; afterwards it links to the workspace's sign-in page.
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/principal";
import { getWorkspace } from "../repo/workspaces";
import { ID_RE } from "../api/common";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

export const enrollPages = new Hono<AppEnv>();

const CODE_RE = /^[0-9]{1,32}$/;

enrollPages.get("/:tid/:wid/enroll", async (c) => {
  const { tid, wid } = c.req.param();
  const workspace = ID_RE.test(tid) && ID_RE.test(wid) ? await getWorkspace(c.env.DB, tid, wid) : undefined;
  if (!workspace) {
    return c.html(
      <NotFoundPage what="enrollment page" help="Check the link in your message, or ask your administrator for a new one." />,
      404,
    );
  }

  const user = c.req.query("user") ?? "";
  const code = c.req.query("code") ?? "";
  const signinUrl = `/${tid}/${wid}/login`;
  const complete = ID_RE.test(user);
  const isAdmin = wid === "admin";

  return c.html(
    <Layout title="Set up your passkey" script={complete ? "enroll" : undefined} data={{ tid, wid, user: complete ? user : "" }}>
      <div class="enroll">
        <div class="card">
          <h1>{isAdmin ? "Set up your administrator passkey" : "Set up your passkey"}</h1>
          {complete ? (
            <>
              <div id="enroll-step">
                <p>
                  Create the passkey you will use to sign in to <strong>{workspace.name}</strong>. Your device keeps it and asks for your
                  fingerprint, face or screen lock; there is no password to remember.
                </p>
                <form id="enroll-form" novalidate>
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
                    value={CODE_RE.test(code) ? code : ""}
                    aria-describedby="code-hint"
                  />
                  <p class="hint" id="code-hint">
                    The code from your enrollment message. It works once and expires after a few minutes.
                  </p>
                  <button type="submit" class="block" id="create">
                    Create a passkey
                  </button>
                </form>
              </div>
              <div id="enroll-done" hidden>
                <h2 id="done-title" tabindex={-1}>
                  Your passkey is ready
                </h2>
                <p>From now on, sign in with it: your device asks for your fingerprint, face or screen lock.</p>
                <a class="button" href={signinUrl} id="signin-link">
                  {isAdmin ? "Sign in to the admin console" : "Sign in"}
                </a>
              </div>
              <Status />
            </>
          ) : (
            <p role="alert" class="error">
              This enrollment link is incomplete. Open the link from your message again, or ask your administrator for a new one.
            </p>
          )}
        </div>
      </div>
    </Layout>,
  );
});
