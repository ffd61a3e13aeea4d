/**
 * Recovery page (GET /{tid}/{wid}/recover, "Lost your passkey?"). Page data from <body data-*>: tid, wid. The server
 * renders the first step (src/pages/recover-view.tsx); this renders it again as components (recover/recover.tsx),
 * keeping what the user typed.
 */
import { render } from "hono/jsx/dom";
import { $, data } from "./lib/dom";
import { Recover } from "./recover/recover";

const typed = (document.getElementById("address") as HTMLInputElement | null)?.value ?? "";
const focused = document.activeElement?.id;

render(<Recover page={{ tid: data("tid"), wid: data("wid") }} typed={typed} />, $("#recover-root"));
if (focused) document.getElementById(focused)?.focus();
