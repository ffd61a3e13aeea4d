/**
 * Sign-up page: GET /{tid}/{wid}/signup (linked from the sign-in page when a pool of the workspace takes sign-ups).
 * Email address → one-time code → the browser's passkey prompt → signed in, like a sign-in: with `authz` back to the
 * app's authorization, else the portal (or a same-origin `return_to`). The page's script (src/client/signup.tsx) calls
 * /{tid}/{wid}/signup/request, /webauthn/options and /webauthn/complete. 404 when the workspace offers no sign-up.
 */
import { passkeyMode } from "../domain/workspace";
import { codeThenPasskeyPages } from "./code-then-passkey-page";
import { signupTexts } from "./signup-view";

export const signupPages = codeThenPasskeyPages({
  flow: "signup",
  texts: signupTexts,
  offered: (found) => passkeyMode(found.workspace.mechanisms) !== null && found.pools.some((p) => p.signUp),
  notFound: { what: "sign-up page", help: "Sign in instead, or ask the people who run this site how to get an account." },
  title: (name) => `Create an account for ${name}`,
  heading: "Create your account",
  lead: (strong) => <>for {strong}, with a passkey instead of a password</>,
  signin: { before: "Already have an account?", link: "Sign in" },
});
