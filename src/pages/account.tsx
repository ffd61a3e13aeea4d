/**
 * Self-service portal: GET /{tid}/{wid}/account.
 *
 * The page is a shell: the user's data comes from GET /identity/v2/self/me with the token in sessionStorage
 * (src/client/account.tsx), so nothing personal is rendered or cached here. The shell is the portal's own markup
 * (src/pages/portal-view.tsx, which the browser renders again with the user's data). The workspace's passkey mode
 * and the pools whose users can confirm a change with a passkey sign-in go to the script as data-* attributes.
 */
import { Hono } from "hono";
import { isPasskey } from "../domain/mechanisms";
import { passkeyMode } from "../domain/workspace";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import type { PoolRow } from "../repo/pools";
import { getPageWorkspace } from "../services/workspaces";
import { DeleteDialog, PortalView } from "./portal-view";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

/** Pools whose users get a token from a passkey alone (a passkey first factor, no second factor). */
export const passkeyReauthPools = (pools: readonly PoolRow[]) =>
  pools.filter((p) => p.mechanisms.some(isPasskey) && p.secondFactorMechanisms.length === 0).map((p) => p.id);

export const accountPages = new Hono<AppEnv>();

accountPages.get("/:tid/:wid/account", async (c) => {
  const { tid, wid } = c.req.param();
  const found = await getPageWorkspace(callOf(c, tid), wid);
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
        <div id="portal-root">
          <PortalView
            signinAgainHref={`/${tid}/${wid}/login?${new URLSearchParams({ return_to: `/${tid}/${wid}/account` })}`}
            passkeyMode={!!mode}
            phase="loading"
            status={<Status />}
            dialog={<DeleteDialog />}
          />
        </div>
      </div>
    </Layout>,
  );
});
