/**
 * Consent page of the OpenID Provider: GET /{tid}/{wid}/oauth2/consent?authz=<id>. A plain form (no script) that POSTs
 * to the same address with the pending request's id and a token bound to it and the provider session
 * (services/oidc-authorize.ts consentPage / answerConsent). The route sends it with a strict CSP whose form-action
 * allows this origin and the client's redirect target (the answer to the POST redirects there).
 */
import type { FC } from "hono/jsx";
import type { ConsentView } from "../services/oidc-authorize";
import { Layout } from "./layout";

const SCOPE_TEXT: Record<string, string> = {
  openid: "Know who you are (your user id)",
  profile: "See your name and username",
  email: "See your email address and whether it is verified",
  offline_access: "Stay signed in to the app while you're away",
};

export const ConsentPage: FC<{ view: ConsentView; action: string }> = ({ view, action }) => (
  <Layout title={`Allow ${view.clientName}?`}>
    <div class="signin">
      <div class="card">
        <h1>Allow {view.clientName}?</h1>
        <p class="lead">
          <strong>{view.clientName}</strong> would like to:
        </p>
        <ul id="consent-scopes">
          {view.scopes.map((s) => (
            <li data-scope={s}>{SCOPE_TEXT[s] ?? s}</li>
          ))}
        </ul>
        <form method="post" action={action} id="consent-form">
          <input type="hidden" name="authz" value={view.authz} />
          <input type="hidden" name="csrf" value={view.csrf} />
          <button type="submit" name="decision" value="allow" id="consent-allow" class="block">
            Allow
          </button>
          <button type="submit" name="decision" value="deny" id="consent-deny" class="block secondary">
            Don't allow
          </button>
        </form>
        <p class="hint">We'll remember your answer for this app, so it won't ask again for the same access.</p>
      </div>
    </div>
  </Layout>
);
