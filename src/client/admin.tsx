/**
 * Admin console entry: the administrator's token (workspace "admin", scope identity), or a redirect to its sign-in page;
 * then the console (src/client/admin/) rendered into the page's #console.
 */
import { render, useEffect, useState } from "hono/jsx/dom";
import { systemApi } from "./admin/api";
import { App } from "./admin/app";
import { ADMIN_WORKSPACE } from "./admin/context";
import { $, data } from "./lib/dom";
import { clearToken, loadToken } from "./lib/session";

const tid = data("tid");
const enc = encodeURIComponent;
const signinUrl = () => {
  const back = `/${tid}/admin${location.hash}`;
  return `/${enc(tid)}/admin/login?return_to=${enc(back).replace(/%2F/g, "/")}`;
};
const signOut = () => {
  clearToken(tid, ADMIN_WORKSPACE);
  location.assign(`/${enc(tid)}/admin/login`);
};

function Session({ token }: { token: string }) {
  const [name, setName] = useState<string | null>(null);
  useEffect(() => {
    // Who is signed in: the self-service profile of the admin workspace (best effort).
    fetch(`/${enc(tid)}/${ADMIN_WORKSPACE}/identity/v2/self/me`, { headers: { authorization: `Bearer ${token}` } })
      .then((r) => (r.ok ? r.json() : null))
      .then((me: { identifiers?: { identifier: string }[] } | null) => setName(me?.identifiers?.[0]?.identifier ?? null))
      .catch(() => undefined);
  }, []);
  return (
    <>
      <span id="who" class="who">
        {name ? `Signed in as ${name}` : ""}
      </span>
      <button type="button" id="signout" class="secondary small" onClick={signOut}>
        Sign out
      </button>
    </>
  );
}

const NotAdmin = () => (
  <div class="card">
    <h1>Not an administrator</h1>
    <p>You are signed in, but this account may not manage the tenant. Sign in with an administrator's passkey.</p>
    <button type="button" onClick={signOut}>
      Sign out
    </button>
  </div>
);

function start(token: string, scopes: string[]) {
  const session = $("#session");
  render(<Session token={token} />, session);
  session.hidden = false;
  $("#loading").hidden = true;
  const root = $("#console");
  root.hidden = false;
  if (!scopes.includes("identity")) {
    render(<NotAdmin />, root);
    return;
  }
  const api = systemApi(tid, token, () => {
    clearToken(tid, ADMIN_WORKSPACE);
    location.replace(signinUrl());
  });
  if (!location.hash) history.replaceState(null, "", "#/methods");
  render(<App tid={tid} api={api} />, root);
}

const session = loadToken(tid, ADMIN_WORKSPACE);
if (!session) location.replace(signinUrl());
else start(session.token, session.claims.scope.split(" "));
