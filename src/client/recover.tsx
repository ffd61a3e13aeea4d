/**
 * Recovery page (GET /{tid}/{wid}/recover, "Lost your passkey?"). Page data from <body data-*>: tid, wid. The server
 * renders the first step (src/pages/code-then-passkey-view.tsx with src/pages/recover-view.tsx's texts); this renders
 * it again as components (lib/code-then-passkey.tsx with recover/recover.tsx's flow), keeping what the user typed.
 */
import { render } from "hono/jsx/dom";
import { CodeThenPasskey } from "./lib/code-then-passkey";
import { $, data } from "./lib/dom";
import { recoverFlow } from "./recover/recover";

const typed = (document.getElementById("address") as HTMLInputElement | null)?.value ?? "";
const focused = document.activeElement?.id;

render(<CodeThenPasskey flow={recoverFlow} page={{ tid: data("tid"), wid: data("wid") }} typed={typed} />, $("#recover-root"));
if (focused) document.getElementById(focused)?.focus();
