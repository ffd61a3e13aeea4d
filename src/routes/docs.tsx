/** The API reference page at /docs, rendered from the generated OpenAPI document (no CDN, no script). */
import { raw } from "hono/html";
import type { FC } from "hono/jsx";

type Operation = { summary?: string; description?: string; tags?: string[]; security?: unknown[] };
type Doc = { info: { title: string; version: string }; paths?: object };

const METHODS = ["get", "post", "put", "delete", "patch"];

/** `nonce`: the CSP nonce of this answer for the inline stylesheet (src/http/security.ts docsHeaders). */
export const DocsPage: FC<{ doc: Doc; nonce?: string }> = ({ doc, nonce }) => {
  const ops = (Object.entries(doc.paths ?? {}) as [string, Record<string, Operation | undefined>][]).flatMap(([path, item]) =>
    METHODS.flatMap((m) => (item[m] ? [{ path, method: m, op: item[m] }] : [])),
  );
  const tags = [...new Set(ops.map((o) => o.op.tags?.[0] ?? "Other"))];
  return (
    <>
      {raw("<!DOCTYPE html>")}
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{doc.info.title} API reference</title>
          <style nonce={nonce}>{`body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
code{font:13px ui-monospace,monospace}.op{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .75rem;margin:.5rem 0}
.m{display:inline-block;min-width:4.5rem;font-weight:700;text-transform:uppercase}.get{color:#0969da}.post{color:#1a7f37}
.put{color:#9a6700}.delete{color:#cf222e}p{margin:.25rem 0 0}`}</style>
        </head>
        <body>
          <h1>
            {doc.info.title} <small>{doc.info.version}</small>
          </h1>
          <p>
            Machine-readable document: <a href="/openapi.json">/openapi.json</a>. JSON errors are
            <code> {"{status_code, error, error_code, details}"}</code> (the OAuth endpoints add <code>error_description</code>); the HTML
            endpoints of OpenID Connect answer an error page.
          </p>
          {tags.map((tag) => (
            <section>
              <h2>{tag}</h2>
              {ops
                .filter((o) => (o.op.tags?.[0] ?? "Other") === tag)
                .map(({ path, method, op }) => (
                  <div class="op">
                    <span class={`m ${method}`}>{method}</span> <code>{path}</code>
                    {op.security?.length ? <small> (bearer token)</small> : null}
                    {op.summary && <p>{op.summary}</p>}
                    {op.description && <p>{op.description}</p>}
                  </div>
                ))}
            </section>
          ))}
        </body>
      </html>
    </>
  );
};
