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
import { pendingForSignin } from "../services/oidc-authorize";
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

/** What the page offers besides signing in (server-rendered links; the browser code does not need them). */
interface Offer {
  signUp: boolean;
  recovery: boolean;
}

/**
 * Sign-up and recovery pages of the workspace (GET /{tid}/{wid}/signup, /recover), with what the sign-in page was
 * given: the pending OIDC authorization (`authz`) and the portal's `return_to`, so that they end where a sign-in would.
 */
const AccountLinks: FC<{ tid: string; wid: string; offer: Offer; query: URLSearchParams }> = ({ tid, wid, offer, query }) => {
  if (!offer.signUp && !offer.recovery) return null;
  const keep = new URLSearchParams();
  for (const k of ["authz", "return_to"]) {
    const v = query.get(k);
    if (v) keep.set(k, v);
  }
  const qs = keep.size ? `?${keep}` : "";
  const base = `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}`;
  return (
    <nav class="account-links" aria-label="Other options">
      {offer.signUp && (
        <p>
          New here? <a href={`${base}/signup${qs}`}>Create an account with a passkey</a>
        </p>
      )}
      {offer.recovery && (
        <p>
          <a href={`${base}/recover${qs}`}>Lost your passkey?</a>
        </p>
      )}
    </nav>
  );
};

/** An app's sign-in (OpenID Connect, ?authz=): the login hint, and what the app demands of the passkey. */
interface AppRequest {
  loginHint: string | null;
  deviceBound: boolean;
  /** The last sign-in's passkey did not meet the app's demand (?reason=acr). */
  acrFailed: boolean;
}

const AppNotice: FC<{ app: AppRequest }> = ({ app }) =>
  app.deviceBound || app.acrFailed ? (
    <p class="warning" id="acr-notice" role="alert">
      {app.acrFailed
        ? "The passkey you used is synced between devices, or didn't check it's you. This app needs a device-bound passkey (a security key or a passkey kept only on this device) with your fingerprint, face or PIN. Sign in with such a passkey."
        : "This app needs a device-bound passkey: a security key or a passkey kept only on this device, unlocked with your fingerprint, face or PIN."}
    </p>
  ) : null;

const SigninPage: FC<{
  tid: string;
  wid: string;
  name: string;
  cfg: PageConfig;
  offer: Offer;
  app: AppRequest | null;
  query: URLSearchParams;
}> = ({ tid, wid, name, cfg, offer, app, query }) => (
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
        {app && <AppNotice app={app} />}
        <div id="signin-root">
          <SigninView cfg={cfg} button={plainButton} status={<Status />} values={{ identifier: app?.loginHint ?? undefined }} />
        </div>
        <AccountLinks tid={tid} wid={wid} offer={offer} query={query} />
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
  const config = await signinConfig(inWorkspace(call, wid), found);
  const cfg = pageConfig(config);
  const offer = { signUp: config.sign_up, recovery: config.recovery };
  const authz = c.req.query("authz");
  const pending = authz ? await pendingForSignin(inWorkspace(call, wid), authz) : null;
  const app = pending && { ...pending, acrFailed: c.req.query("reason") === "acr" };
  const query = new URL(c.req.url).searchParams;
  return c.html(<SigninPage tid={tid} wid={wid} name={found.workspace.name} cfg={cfg} offer={offer} app={app} query={query} />);
});
