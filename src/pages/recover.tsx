/**
 * Recovery page ("Lost your passkey?"): GET /{tid}/{wid}/recover, linked from the sign-in page when a pool of the
 * workspace has recovery on. Address → one-time code → the browser's passkey prompt → signed in, like a sign-in: with
 * `authz` back to the app's authorization, else the portal (or a same-origin `return_to`). The page's script
 * (src/client/recover.tsx) calls /{tid}/{wid}/recover/request, /webauthn/options and /webauthn/complete. 404 when the
 * workspace offers no recovery.
 */
import { offersRecovery } from "../services/recovery";
import { codeThenPasskeyPages } from "./code-then-passkey-page";
import { recoverTexts } from "./recover-view";

export const recoverPages = codeThenPasskeyPages({
  flow: "recover",
  texts: recoverTexts,
  offered: offersRecovery,
  notFound: { what: "recovery page", help: "Sign in instead, or ask your administrator to help you get back in." },
  title: (name) => `Recover your account for ${name}`,
  heading: "Lost your passkey?",
  lead: (strong) => <>Get back into {strong} with a code to your email and a new passkey</>,
  signin: { before: "Found your passkey?", link: "Back to sign-in" },
});
