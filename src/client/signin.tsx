/**
 * Sign-in page (GET /{tid}/{wid}/login). Page data comes from data-* attributes on <body>: tid, wid, mode
 * ("smart" | "classic" | ""), methods ("passkey password", preferred first), preferred.
 *
 * Smart: "Sign in with a passkey" (options {}), plus passkey autofill (conditional mediation) on the username field.
 * Classic: username, then the passkey prompt (options {identifier}). Password: POST /login/password, then the passkey
 * step when the answer is {login_id, next: ["webauthn"]}. On success the token goes to sessionStorage and the browser
 * to return_to (same-origin path only) or the portal.
 *
 * The server renders the same markup (src/pages/signin-view.tsx) without behaviour; this renders it again as components
 * (signin/signin.tsx), keeping what the user typed meanwhile.
 */
import { render } from "hono/jsx/dom";
import { $, data } from "./lib/dom";
import { Signin } from "./signin/signin";
import type { PageConfig, PageMethod } from "../pages/signin-view";

const mode = data("mode");
const methods = data("methods")
  .split(" ")
  .filter((m): m is PageMethod => m === "passkey" || m === "password");
const preferred = data("preferred");
const cfg: PageConfig = {
  mode: mode === "smart" || mode === "classic" ? mode : null,
  methods,
  preferred: preferred === "passkey" || preferred === "password" ? preferred : null,
};
const typed = (id: string) => (document.getElementById(id) as HTMLInputElement | null)?.value || undefined;
const focused = document.activeElement?.id;

render(
  <Signin
    page={{ tid: data("tid"), wid: data("wid"), cfg }}
    values={{ identifier: typed("identifier"), password: typed("password") }}
    signedOut={new URLSearchParams(location.search).has("signed_out")}
  />,
  $("#signin-root"),
);
if (focused) document.getElementById(focused)?.focus();
