/** The Worker's HTTP app: one sub-app per concern, one error handler, the OpenAPI document from the same schemas. */
import { requireScope } from "./http/bearer";
import { requireBootstrap } from "./http/bootstrap";
import { newApp } from "./http/app";
import { onError } from "./http/errors";
import { limitBody, noStore, requireContentType } from "./http/guards";
import { docsHeaders, responseHeaders } from "./http/security";
import { requestLog } from "./http/log";
import { notFound, pages } from "./pages";
import { DocsPage } from "./routes/docs";
import { enroll } from "./routes/enroll";
import { recovery } from "./routes/recovery";
import { signin } from "./routes/signin";
import { signup } from "./routes/signup";
import { oauth } from "./routes/oauth";
import { oidcAuthorize } from "./routes/oidc-authorize";
import { oidcDiscovery } from "./routes/oidc-discovery";
import { oidcToken, userinfo } from "./routes/oidc-token";
import { self } from "./routes/self";
import { audit } from "./routes/system/audit";
import { clients } from "./routes/system/clients";
import { oidcClients } from "./routes/system/oidc-clients";
import { otp } from "./routes/system/otp";
import { passkeys } from "./routes/system/passkeys";
import { pools } from "./routes/system/pools";
import { users } from "./routes/system/users";
import { workspaces } from "./routes/system/workspaces";
import { tenants } from "./routes/tenants";
import { wellKnown } from "./routes/well-known";

const OPENAPI = {
  openapi: "3.1.0",
  info: { title: "passkey-edge", version: "0.1.0", description: "Passkey (WebAuthn) identity service on Cloudflare Workers." },
};

export function buildApp() {
  const app = newApp();
  app.use("*", requestLog);
  app.onError(onError);
  app.notFound(notFound);
  app.use("*", responseHeaders);

  // First: /.well-known/webauthn has two segments, as /{tid}/{wid} pages do.
  app.route("/", wellKnown);
  app.route("/", oauth);
  app.route("/", oidcToken);
  app.route("/", userinfo);
  app.route("/", oidcDiscovery);
  app.route("/", signin);
  app.route("/", self);
  app.route("/", enroll);
  app.route("/", recovery);
  app.route("/", signup);
  app.route("/", oidcAuthorize);

  const system = newApp();
  system.use("*", noStore, limitBody, requireContentType("json"), requireScope("identity"));
  system.route("/", pools);
  system.route("/", workspaces);
  system.route("/", users);
  system.route("/", passkeys);
  system.route("/", otp);
  system.route("/", audit);
  system.route("/", clients);
  system.route("/", oidcClients);
  app.route("/api/identity/:tid/system", system);

  // Tenants: the bootstrap system client only, with a token from any tenant's token endpoint.
  const tenantAdmin = newApp();
  tenantAdmin.use("*", noStore, limitBody, requireContentType("json"), requireBootstrap);
  tenantAdmin.route("/", tenants);
  app.route("/api/identity/system", tenantAdmin);

  // Hosted pages (HTML): strict CSP, no framing, no caching; unknown addresses a browser asks for get the 404 page.
  app.route("/", pages);

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", { type: "http", scheme: "bearer", bearerFormat: "JWT" });
  app.doc31("/openapi.json", OPENAPI);
  app.get("/docs", docsHeaders, (c) =>
    c.html(DocsPage({ doc: app.getOpenAPI31Document(OPENAPI), nonce: c.get("secureHeadersNonce") }) as string),
  );
  app.get("/", (c) => c.redirect("/docs"));
  return app;
}

export const app = buildApp();
