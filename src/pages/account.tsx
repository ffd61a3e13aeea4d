/**
 * Self-service portal: GET /{tid}/{wid}/account.
 *
 * The page is a shell: the user's data comes from GET /identity/v2/self/me with the token in sessionStorage
 * (src/client/account.ts), so nothing personal is rendered or cached here. The workspace's passkey mode and the
 * pools whose users can confirm a change with a passkey sign-in go to the script as data-* attributes.
 */
import { Hono } from "hono";
import { isPasskey } from "../domain/mechanisms";
import { passkeyMode } from "../domain/workspace";
import type { AppEnv } from "../http/principal";
import type { PoolRow } from "../repo/pools";
import { Layout, Status } from "./layout";
import { pageWorkspace } from "./signin";
import { NotFoundPage } from "./not-found";

/** Pools whose users get a token from a passkey alone (a passkey first factor, no second factor). */
export const passkeyReauthPools = (pools: readonly PoolRow[]) =>
  pools.filter((p) => p.mechanisms.some(isPasskey) && p.secondFactorMechanisms.length === 0).map((p) => p.id);

export const accountPages = new Hono<AppEnv>();

accountPages.get("/:tid/:wid/account", async (c) => {
  const { tid, wid } = c.req.param();
  const found = await pageWorkspace(c.env.DB, tid, wid);
  if (!found) return c.html(<NotFoundPage what="account page" />, 404);
  const mode = passkeyMode(found.workspace.mechanisms);
  const data = { tid, wid, mode: mode ?? "", "reauth-pools": passkeyReauthPools(found.pools).join(" ") };
  return c.html(
    <Layout title="Your account" script="account" data={data} wide>
      <div class="portal">
        <h1>Your account</h1>
        <p class="lead">{found.workspace.name}</p>
        <noscript>
          <p class="warning">This page needs JavaScript to show your account. Turn it on for this site and reload.</p>
        </noscript>
        <p id="loading" class="hint" role="status">
          Loading your account…
        </p>

        <div id="portal" hidden>
          <section class="card profile" aria-labelledby="profile-title">
            <div>
              <h2 id="profile-title">Signed in as</h2>
              <p id="user-identifier" class="identity"></p>
            </div>
            <button type="button" id="sign-out" class="secondary">
              Sign out
            </button>
          </section>

          <section class="card" aria-labelledby="passkeys-title">
            <div class="section-head">
              <h2 id="passkeys-title" tabindex={-1}>
                Passkeys
              </h2>
              <button type="button" id="add-passkey">
                Add a passkey
              </button>
            </div>
            <p class="hint">
              {mode
                ? "Sign in with your fingerprint, face or screen lock instead of a password. Add a passkey on each device you use, so losing one doesn't lock you out."
                : "Your passkeys confirm it's you after your password when you sign in."}
            </p>
            <p id="add-unavailable" class="hint" hidden>
              Adding passkeys isn't turned on in this workspace.
            </p>
            <Status />
            <p id="signin-again-row" hidden>
              <a
                id="signin-again"
                class="button secondary"
                href={`/${tid}/${wid}/login?${new URLSearchParams({ return_to: `/${tid}/${wid}/account` })}`}
              >
                Sign in again
              </a>
            </p>
            <p id="empty" class="empty" hidden>
              You have no passkeys yet. Add one to sign in without a password.
            </p>
            <table id="passkey-table" hidden>
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
              <tbody id="passkey-rows"></tbody>
            </table>
          </section>
        </div>

        <dialog id="delete-dialog" aria-labelledby="delete-title" aria-describedby="delete-description">
          <form method="dialog">
            <h2 id="delete-title">Delete this passkey?</h2>
            <p id="delete-description">
              You won't be able to sign in with <strong id="delete-name"></strong> any more. If it's stored in a password manager, remove it
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
      </div>
    </Layout>,
  );
});
