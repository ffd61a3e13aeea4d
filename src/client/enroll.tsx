/**
 * Enrollment-link page (GET /{tid}/{wid}/enroll?user=&code=). Page data from <body data-*>: tid, wid, user. The
 * server renders the page (src/pages/enroll-view.tsx); this renders it again as components (enroll/enroll.tsx), taking the
 * workspace's name, the sign-in link and the code (as the user may have typed it) from the server's markup.
 */
import { render } from "hono/jsx/dom";
import { Enroll } from "./enroll/enroll";
import { $, data } from "./lib/dom";

const wid = data("wid");
const shell = {
  workspaceName: $("#enroll-step strong").textContent ?? "",
  isAdmin: wid === "admin",
  signinUrl: $("#signin-link").getAttribute("href") ?? "",
  code: $<HTMLInputElement>("#code").value,
};
const focused = document.activeElement?.id;

render(<Enroll page={{ tid: data("tid"), wid, userId: data("user") }} shell={shell} />, $("#enroll-root"));
if (focused) document.getElementById(focused)?.focus();
