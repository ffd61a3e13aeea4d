/**
 * Sign-in page: GET /{tid}/{wid}/login.
 *
 * Server-rendered in the one Layout. The workspace is looked up as every page looks it up (getPageWorkspace, one D1
 * batch), and its passkey mode and sign-in methods (preferred first: signinConfig, the answer of GET /login/config)
 * go to the browser code as data-* attributes, so the script needs no extra round trip. Browser code:
 * src/client/signin.tsx, which renders the same markup (src/pages/signin-view.tsx) again as components.
 */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { isPasskey } from "../domain/mechanisms";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { inWorkspace } from "../services/call";
import { type SigninConfig, signinConfig } from "../services/signin";
import { getPageWorkspace } from "../services/workspaces";
import { type PageConfig, type PageMethod, plainButton, SigninView } from "./signin-view";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

/** GET /login/config's answer (methods preferred first), reduced to what the hosted page offers: passkey and password. */
function pageConfig(config: SigninConfig): PageConfig {
  const methods = [
    ...new Set(config.methods.flatMap((m): PageMethod[] => (isPasskey(m) ? ["passkey"] : m === "password" ? ["password"] : []))),
  ];
  return { mode: config.passkey_mode, methods, preferred: methods[0] ?? null };
}

const SigninPage: FC<{ tid: string; wid: string; name: string; cfg: PageConfig }> = ({ tid, wid, name, cfg }) => (
  <Layout
    title={`Sign in to ${name}`}
    script="signin"
    data={{ tid, wid, mode: cfg.mode ?? "", methods: cfg.methods.join(" "), preferred: cfg.preferred ?? "" }}
  >
    <div class="signin">
      <div class="card">
        <h1>Sign in</h1>
        <p class="lead">
          to <strong>{name}</strong>
        </p>
        <noscript>
          <p class="warning">This page needs JavaScript to sign you in. Turn it on for this site and reload.</p>
        </noscript>
        <div id="signin-root">
          <SigninView cfg={cfg} button={plainButton} status={<Status />} />
        </div>
      </div>
      {cfg.methods.includes("passkey") && (
        <p class="hint center">
          A passkey replaces your password with the lock of your device. It never leaves your device and can't be phished.
        </p>
      )}
    </div>
  </Layout>
);

export const signinPages = new Hono<AppEnv>();

signinPages.get("/:tid/:wid/login", async (c) => {
  const { tid, wid } = c.req.param();
  const call = callOf(c, tid);
  const found = await getPageWorkspace(call, wid);
  if (!found) return c.html(<NotFoundPage what="sign-in page" />, 404);
  const cfg = pageConfig(await signinConfig(inWorkspace(call, wid), found));
  return c.html(<SigninPage tid={tid} wid={wid} name={found.workspace.name} cfg={cfg} />);
});
