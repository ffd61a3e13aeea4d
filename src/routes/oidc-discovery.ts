/** OIDC Discovery and JWKS of a workspace's OpenID Provider; readable from any origin. */
import { createRoute, z } from "@hono/zod-openapi";
import { callOf } from "../http/context";
import { newApp } from "../http/app";
import { publicCors } from "../http/cors";
import { errors, json } from "../api/common";
import { OidcDiscovery, OidcParams } from "../api/oidc";
import { inWorkspace } from "../services/call";
import { getOidcDiscovery, getOidcJwks } from "../services/oidc-discovery";

export const oidcDiscovery = newApp();
oidcDiscovery.use("/:tid/:wid/.well-known/*", publicCors);

oidcDiscovery.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/.well-known/openid-configuration",
    tags: ["OpenID Connect"],
    summary: "OpenID Provider metadata of the workspace (issuer {base}/{tid}/{wid})",
    request: { params: OidcParams },
    responses: { 200: json(OidcDiscovery, "OIDC Discovery 1.0 metadata"), ...errors(400, 404, 503) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    const doc = await getOidcDiscovery(inWorkspace(callOf(c, tid), wid));
    c.header("cache-control", "public, max-age=300");
    return c.json(doc, 200);
  },
);

const Jwks = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

oidcDiscovery.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/.well-known/jwks.json",
    tags: ["OpenID Connect"],
    summary: "The keys that verify the workspace's ID and access tokens (RS256 and ES256)",
    request: { params: OidcParams },
    responses: { 200: json(Jwks, "JSON Web Key Set"), ...errors(400, 404) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    const keys = await getOidcJwks(inWorkspace(callOf(c, tid), wid));
    c.header("cache-control", "public, max-age=300");
    return c.json(keys, 200);
  },
);
