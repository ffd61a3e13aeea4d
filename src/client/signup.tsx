/**
 * Sign-up page (GET /{tid}/{wid}/signup). Page data from <body data-*>: tid, wid. The server renders the first step
 * (src/pages/signup-view.tsx); this renders it again as components (signup/signup.tsx), keeping what the user typed.
 */
import { render } from "hono/jsx/dom";
import { $, data } from "./lib/dom";
import { Signup } from "./signup/signup";

const typed = (document.getElementById("email") as HTMLInputElement | null)?.value ?? "";
const focused = document.activeElement?.id;

render(<Signup page={{ tid: data("tid"), wid: data("wid") }} typed={typed} />, $("#signup-root"));
if (focused) document.getElementById(focused)?.focus();
