/**
 * Admin console: GET /{tid}/admin. A static skeleton; the page's script (src/client/admin.ts) reads the administrator's
 * token (workspace "admin", scope identity), redirects to /{tid}/admin/login without one, and drives the system API.
 * Screens, hash-addressed: #/methods (Authentication > Settings > Methods), #/pools/{id} (Users > pool > Sign-in and
 * Sign-up, Passkey Settings, Pool Limits), #/pools/{id}/users and #/pools/{id}/users/{userID} (Users > pool > user).
 */
import { Hono } from "hono";
import type { AppEnv } from "../http/principal";
import { tenantExists } from "../repo/tenants";
import { ID_RE } from "../api/common";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

export const adminPages = new Hono<AppEnv>();

const Session = () => (
  <div class="session" id="session" hidden>
    <span id="who" class="who"></span>
    <button type="button" id="signout" class="secondary small">
      Sign out
    </button>
  </div>
);

adminPages.get("/:tid/admin", async (c) => {
  const tid = c.req.param("tid");
  if (!ID_RE.test(tid) || !(await tenantExists(c.env.DB, tid))) {
    return c.html(<NotFoundPage what="admin console" />, 404);
  }

  return c.html(
    <Layout title="Admin console" script="admin" wide data={{ tid }} nav={<Session />}>
      <p id="loading" class="hint">
        Loading the admin console…
      </p>
      <div id="console" class="console" hidden>
        <div class="console-head">
          <h1>Admin console</h1>
          <span class="badge">tenant {tid}</span>
        </div>
        <nav class="tabs" aria-label="Console sections">
          <a href="#/methods" data-tab="methods">
            Authentication
          </a>
          <a href="#/pools" data-tab="pools">
            Users
          </a>
        </nav>
        <Status />

        <section id="screen-methods" class="screen" aria-labelledby="methods-title" hidden>
          <p class="crumbs">
            Authentication <span aria-hidden="true">›</span> Settings
          </p>
          <h2 id="methods-title" tabindex={-1}>
            Methods
          </h2>
          <p class="hint intro">
            How people sign in to each workspace. A workspace uses passkeys in one mode: Smart (people pick their passkey, no username to
            type) or Classic (people enter their username first).
          </p>
          <div id="workspaces"></div>
        </section>

        <section id="screen-pool" class="screen" aria-labelledby="pool-title" hidden>
          <div class="pool-bar">
            <p class="crumbs">
              Users <span aria-hidden="true">›</span> <span id="crumb-pool"></span>
              <span id="crumb-tail"></span>
            </p>
            <div class="pool-picker">
              <label for="pool-picker">Pool</label>
              <select id="pool-picker"></select>
            </div>
          </div>
          <h2 id="pool-title" tabindex={-1}>
            Pool
          </h2>
          <nav class="tabs sub" aria-label="Pool sections">
            <a id="subtab-signin" data-subtab="signin" href="#/pools">
              Sign-in and Sign-up
            </a>
            <a id="subtab-users" data-subtab="users" href="#/pools">
              Users
            </a>
          </nav>
          <div id="pool-body"></div>
        </section>
      </div>
      <noscript>
        <div class="card">The admin console needs JavaScript.</div>
      </noscript>
    </Layout>,
  );
});
