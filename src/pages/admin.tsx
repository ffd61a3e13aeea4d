/**
 * Admin console: GET /{tid}/admin, the page of the tenant's `admin` workspace (404 without it, as for an unknown
 * tenant: its sign-in page would not exist either). A static skeleton; the page's script (src/client/admin.tsx) reads the administrator's
 * token (workspace "admin", scope identity), redirects to /{tid}/admin/login without one, and renders the console's
 * components (src/client/admin/) into #console, which drive the system API.
 * Screens, hash-addressed: #/methods (Authentication > Settings > Methods), #/pools/{id} (Users > pool > Sign-in and
 * Sign-up, Passkey Settings, Pool Limits), #/pools/{id}/users and #/pools/{id}/users/{userID} (Users > pool > user).
 */
import { Hono } from "hono";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { ADMIN_WORKSPACE } from "../services/user-token";
import { getPageWorkspace } from "../services/workspaces";
import { Layout } from "./layout";
import { NotFoundPage } from "./not-found";

export const adminPages = new Hono<AppEnv>();

/** Filled by the console's script: who is signed in, and "Sign out". */
const Session = () => <div class="session" id="session" hidden></div>;

adminPages.get("/:tid/admin", async (c) => {
  const tid = c.req.param("tid");
  if (!(await getPageWorkspace(callOf(c, tid), ADMIN_WORKSPACE))) {
    return c.html(<NotFoundPage what="admin console" />, 404);
  }

  return c.html(
    <Layout title="Admin console" script="admin" wide data={{ tid }} nav={<Session />}>
      <p id="loading" class="hint">
        Loading the admin console…
      </p>
      {/* The console's components (src/client/admin/) render here. */}
      <div id="console" class="console" hidden></div>
      <noscript>
        <div class="card">The admin console needs JavaScript.</div>
      </noscript>
    </Layout>,
  );
});
