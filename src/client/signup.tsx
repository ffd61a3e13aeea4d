/**
 * Sign-up page (GET /{tid}/{wid}/signup). Page data from <body data-*>: tid, wid. The server renders the first step
 * (src/pages/code-then-passkey-view.tsx with src/pages/signup-view.tsx's texts); this renders it again as components
 * (lib/code-then-passkey.tsx with signup/signup.tsx's flow), keeping what the user typed.
 */
import { render } from "hono/jsx/dom";
import { CodeThenPasskey } from "./lib/code-then-passkey";
import { $, data } from "./lib/dom";
import { signupFlow } from "./signup/signup";

const typed = (document.getElementById("email") as HTMLInputElement | null)?.value ?? "";
const focused = document.activeElement?.id;

render(<CodeThenPasskey flow={signupFlow} page={{ tid: data("tid"), wid: data("wid") }} typed={typed} />, $("#signup-root"));
if (focused) document.getElementById(focused)?.focus();
