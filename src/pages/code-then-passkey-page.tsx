/**
 * The server page of a hosted "email → one-time code → new passkey" flow (sign-up, recovery), GET /{tid}/{wid}/<flow>:
 * the card with the first step (src/pages/code-then-passkey-view.tsx, plain buttons) that the flow's script
 * (src/client/<flow>.tsx) renders again, and the link back to the sign-in page; 404 when the workspace does not offer
 * the flow.
 */
import { Hono } from "hono";
import type { Child } from "hono/jsx";
import { callOf } from "../http/context";
import type { AppEnv } from "../http/principal";
import { getPageWorkspace, type WorkspaceWithPoolRows } from "../services/workspaces";
import { type CodeThenPasskeyTexts, CodeThenPasskeyView } from "./code-then-passkey-view";
import { Layout, Status } from "./layout";
import { NotFoundPage } from "./not-found";

/** The sign-in page with what this page was given (the pending authorization, the portal's return_to). */
function signinHref(tid: string, wid: string, query: URLSearchParams): string {
  const keep = new URLSearchParams();
  for (const k of ["authz", "return_to"]) {
    const v = query.get(k);
    if (v) keep.set(k, v);
  }
  return `/${encodeURIComponent(tid)}/${encodeURIComponent(wid)}/login${keep.size ? `?${keep}` : ""}`;
}

interface CodeThenPasskeyPageProps {
  /** The page's bundle (src/client/<flow>.tsx), also its class and root id (`<flow>-root`). */
  flow: "signup" | "recover";
  texts: CodeThenPasskeyTexts;
  tid: string;
  wid: string;
  /** The page's query (authz and return_to go on to the sign-in link). */
  query: URLSearchParams;
  title: string;
  heading: string;
  /** The lead line, given the workspace's name (in its <strong>). */
  lead: (name: Child) => Child;
  name: string;
  /** The text before the sign-in link, and the link's. */
  signin: { before: string; link: string };
}

const CodeThenPasskeyPage = (p: CodeThenPasskeyPageProps) => (
  <Layout title={p.title} script={p.flow} data={{ tid: p.tid, wid: p.wid }}>
    <div class={`signin ${p.flow}`}>
      <div class="card">
        <h1>{p.heading}</h1>
        <p class="lead">{p.lead(<strong id="workspace-name">{p.name}</strong>)}</p>
        <div id={`${p.flow}-root`}>
          <CodeThenPasskeyView
            texts={p.texts}
            step="address"
            button={(b) => (
              <button type={b.action === "restart" ? "button" : "submit"} class={b.primary ? "block" : "block secondary"} id={b.action}>
                {b.label}
              </button>
            )}
            status={<Status />}
          />
        </div>
        <nav class="account-links" aria-label="Other options">
          <p>
            {p.signin.before} <a href={signinHref(p.tid, p.wid, p.query)}>{p.signin.link}</a>
          </p>
        </nav>
      </div>
    </div>
  </Layout>
);

/** A flow's page: its wording, and whether a workspace offers it (else the 404 page with `notFound`'s words). */
export interface CodeThenPasskeyPageSpec extends Pick<CodeThenPasskeyPageProps, "flow" | "texts" | "heading" | "lead" | "signin"> {
  offered: (found: WorkspaceWithPoolRows) => boolean;
  notFound: { what: string; help: string };
  title: (name: string) => string;
}

/** The Hono app serving GET /{tid}/{wid}/<flow>. */
export function codeThenPasskeyPages(spec: CodeThenPasskeyPageSpec) {
  const pages = new Hono<AppEnv>();
  pages.get(`/:tid/:wid/${spec.flow}`, async (c) => {
    const { tid, wid } = c.req.param();
    const found = await getPageWorkspace(callOf(c, tid), wid);
    if (!found || !spec.offered(found)) return c.html(<NotFoundPage what={spec.notFound.what} help={spec.notFound.help} />, 404);
    const name = found.workspace.name;
    return c.html(
      <CodeThenPasskeyPage {...spec} tid={tid} wid={wid} query={new URL(c.req.url).searchParams} title={spec.title(name)} name={name} />,
    );
  });
  return pages;
}
