/** The one layout of the hosted pages. Page data reaches the browser code through data-* attributes (no inline script). */
import { raw } from "hono/html";
import type { Child, FC } from "hono/jsx";

export interface LayoutProps {
  title: string;
  /** Bundle name under /assets/js/, e.g. "signin". */
  script?: string;
  /** Values for the page's script, as data-* attributes on <body>. */
  data?: Record<string, string>;
  wide?: boolean;
  nav?: Child;
  children?: Child;
}

export const Layout: FC<LayoutProps> = ({ title, script, data = {}, wide, nav, children }) => {
  const attrs = Object.fromEntries(Object.entries(data).map(([k, v]) => [`data-${k}`, v]));
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <meta name="referrer" content="no-referrer" />
          <title>{`${title} · passkey-edge`}</title>
          <link rel="stylesheet" href="/assets/app.css" />
          {script && <script type="module" src={`/assets/js/${script}.js`}></script>}
        </head>
        <body {...attrs}>
          <header class="top">
            <span class="brand">passkey-edge</span>
            {nav}
          </header>
          <main class={wide ? "wide" : undefined} id="main">
            {children}
          </main>
        </body>
      </html>
    </>
  );
};

/** The live region every page announces its messages in. */
export const Status: FC<{ id?: string }> = ({ id = "status" }) => <p id={id} role="status" aria-live="polite"></p>;
