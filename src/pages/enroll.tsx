/**
 * Enrollment-link page: GET /{tid}/{wid}/enroll?user=<id>&code=<code>. A user who received a one-time code creates a
 * passkey here (the first administrator too, at /{tid}/admin/enroll). The page's script calls
 * /{tid}/{wid}/enroll/webauthn/options and /complete; afterwards it links to the workspace's sign-in page. The markup is
 * src/pages/enroll-view.tsx, which the browser code (src/client/enroll.tsx) renders again as components.
 */
import { Hono } from "hono";
import { ID_RE } from "../api/common";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { getPageWorkspace } from "../services/workspaces";
import { createLabel, EnrollView } from "./enroll-view";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

export const enrollPages = new Hono<AppEnv>();

const CODE_RE = /^[0-9]{1,32}$/;

enrollPages.get("/:tid/:wid/enroll", async (c) => {
  const { tid, wid } = c.req.param();
  const found = await getPageWorkspace(callOf(c, tid), wid);
  if (!found) {
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
            <div id="enroll-root">
              <EnrollView
                workspaceName={found.workspace.name}
                isAdmin={isAdmin}
                signinUrl={signinUrl}
                code={CODE_RE.test(code) ? code : ""}
                button={
                  <button type="submit" class="block" id="create">
                    {createLabel(false)}
                  </button>
                }
                status={<Status />}
              />
            </div>
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
