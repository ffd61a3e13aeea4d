/**
 * Self-service portal (GET /{tid}/{wid}/account). Page data from <body data-*>: tid, wid, mode ("smart" |
 * "classic" | ""), reauth-pools (pools whose users can confirm a change with a passkey sign-in).
 *
 * Without a valid token in sessionStorage it sends the browser to the sign-in page (return_to here). Otherwise it
 * renders the portal (portal/portal.tsx) over the server's shell (the same markup, src/pages/portal-view.tsx): the user's
 * passkeys from GET /identity/v2/self/me, added, renamed and deleted. Every change first confirms the user with a
 * passkey when the sign-in is older than 290 s, and retries once after 401 insufficient_user_authentication
 * (lib/portal-reauth.ts).
 */
import { render } from "hono/jsx/dom";
import { $, data } from "./lib/dom";
import { loadToken } from "./lib/session";
import { Portal } from "./portal/portal";
import { type PortalPage, signinUrl } from "./portal/self";

const mode = data("mode");
const page: PortalPage = {
  tid: data("tid"),
  wid: data("wid"),
  mode: mode === "smart" || mode === "classic" ? mode : "",
  reauthPools: data("reauthPools").split(" ").filter(Boolean),
};

if (loadToken(page.tid, page.wid)) render(<Portal page={page} />, $("#portal-root"));
else location.replace(signinUrl(page));
