/**
 * Sign-in page: GET /{tid}/{wid}/login.
 *
 * Server-rendered in the one Layout. The workspace is looked up here (one D1 batch), and its passkey mode and
 * sign-in methods (preferred first, the same rule as GET /login/config) go to the browser code as data-*
 * attributes, so the script needs no extra round trip. Browser code: src/client/signin.ts.
 */
import { Hono } from "hono";
import type { FC } from "hono/jsx";
import { isPasskey } from "../domain/mechanisms";
import type { PasskeyMode } from "../domain/vocabulary";
import { orderedMethods, passkeyMode } from "../domain/workspace";
import type { AppEnv } from "../http/principal";
import type { PoolRow } from "../repo/pools";
import { workspaceWithPoolRows } from "../repo/workspaces";
import { ID_RE } from "../api/common";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

/** The sign-in methods the hosted page offers. */
export type PageMethod = "passkey" | "password";

export interface PageConfig {
  mode: PasskeyMode | null;
  /** Methods the hosted page offers, preferred first. */
  methods: PageMethod[];
  preferred: PageMethod | null;
}

/**
 * The workspace's methods in the order of GET /login/config (the first pool's preference, in the workspace's passkey
 * value, first), reduced to what the hosted page offers: passkey and password.
 */
export function pageConfig(mechanisms: readonly string[], pools: readonly Pick<PoolRow, "preferredMechanism">[]): PageConfig {
  const ordered = orderedMethods(mechanisms, pools[0]?.preferredMechanism).methods;
  const methods = [...new Set(ordered.flatMap((m): PageMethod[] => (isPasskey(m) ? ["passkey"] : m === "password" ? ["password"] : [])))];
  return { mode: passkeyMode(mechanisms), methods, preferred: methods[0] ?? null };
}

/** The workspace a hosted page belongs to, or undefined (also for ids that cannot exist). */
export async function pageWorkspace(db: D1Database, tid: string, wid: string) {
  if (!ID_RE.test(tid) || !ID_RE.test(wid)) return undefined;
  return workspaceWithPoolRows(db, tid, wid);
}

const Divider: FC<{ text: string }> = ({ text }) => (
  <p class="or">
    <span>{text}</span>
  </p>
);

const IdentifierField: FC<{ autofill: boolean }> = ({ autofill }) => (
  <>
    <label for="identifier">Email or username</label>
    <input
      id="identifier"
      name="identifier"
      type="text"
      inputmode="email"
      autocapitalize="none"
      spellcheck={false}
      autocomplete={autofill ? "username webauthn" : "username"}
      aria-describedby="identifier-hint"
    />
    <p class="hint" id="identifier-hint">
      {autofill ? "Your browser may offer your passkey when you select this field." : "The email address or username of your account."}
    </p>
  </>
);

const PasswordField: FC = () => (
  <>
    <label for="password">Password</label>
    <input id="password" name="password" type="password" autocomplete="current-password" />
  </>
);

/** Smart mode: a one-tap passkey button (no username), and the username field with passkey autofill. */
const SmartStart: FC<{ cfg: PageConfig }> = ({ cfg }) => {
  const password = cfg.methods.includes("password");
  const passkeyFirst = cfg.preferred !== "password";
  const passkey = (
    <div class="method" id="passkey-method">
      <button type="button" id="passkey-button" class={`block${passkeyFirst ? "" : " secondary"}`} aria-describedby="passkey-hint">
        Sign in with a passkey
      </button>
      <p class="hint" id="passkey-hint">
        Use your fingerprint, face or screen lock. No username needed.
      </p>
    </div>
  );
  const form = (
    <form id="signin-form" class="method" novalidate>
      <IdentifierField autofill />
      {password && <PasswordField />}
      <button type="submit" name="method" value={password ? "password" : "passkey"} class={`block${passkeyFirst ? " secondary" : ""}`}>
        {password ? "Sign in with password" : "Continue"}
      </button>
    </form>
  );
  return passkeyFirst ? (
    <>
      {passkey}
      <Divider text={password ? "or use your password" : "or"} />
      {form}
    </>
  ) : (
    <>
      {form}
      <Divider text="or" />
      {passkey}
    </>
  );
};

/** Classic mode: username first, then the passkey prompt (or the password). Password-only workspaces too. */
const UsernameFirstStart: FC<{ cfg: PageConfig }> = ({ cfg }) => {
  const password = cfg.methods.includes("password");
  const passkey = cfg.methods.includes("passkey");
  const passkeyButton = (primary: boolean) => (
    <button type="submit" name="method" value="passkey" id="passkey-button" class={`block${primary ? "" : " secondary"}`}>
      Continue with a passkey
    </button>
  );
  const passwordPart = (primary: boolean) => (
    <>
      <PasswordField />
      <button type="submit" name="method" value="password" class={`block${primary ? "" : " secondary"}`}>
        {passkey ? "Sign in with password" : "Sign in"}
      </button>
    </>
  );
  return (
    <form id="signin-form" class="method" novalidate>
      <IdentifierField autofill={false} />
      {passkey && cfg.preferred === "passkey" && (
        <>
          {passkeyButton(true)}
          {password && <Divider text="or use your password" />}
          {password && passwordPart(false)}
        </>
      )}
      {password && cfg.preferred === "password" && (
        <>
          {passwordPart(true)}
          {passkey && <Divider text="or" />}
          {passkey && passkeyButton(false)}
        </>
      )}
    </form>
  );
};

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
        <p id="no-passkeys" class="warning" hidden>
          This browser can't use passkeys.
          {cfg.methods.includes("password") ? " Sign in with your password instead." : " Try another browser or device."}
        </p>

        <div id="first-step">
          {cfg.methods.length === 0 ? (
            <p class="warning">No sign-in method is available in this workspace yet. Ask your administrator.</p>
          ) : cfg.mode === "smart" ? (
            <SmartStart cfg={cfg} />
          ) : (
            <UsernameFirstStart cfg={cfg} />
          )}
        </div>

        <section id="second-factor" aria-labelledby="second-factor-title" hidden>
          <h2 id="second-factor-title" tabindex={-1}>
            Confirm it's you
          </h2>
          <p>To finish signing in, use your passkey: your fingerprint, face, screen lock or security key.</p>
          <button type="button" id="second-factor-button" class="block">
            Continue with a passkey
          </button>
          <button type="button" id="start-over" class="block secondary">
            Start over
          </button>
        </section>

        <Status />
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
  const found = await pageWorkspace(c.env.DB, tid, wid);
  if (!found) return c.html(<NotFoundPage what="sign-in page" />, 404);
  const cfg = pageConfig(found.workspace.mechanisms, found.pools);
  return c.html(<SigninPage tid={tid} wid={wid} name={found.workspace.name} cfg={cfg} />);
});
