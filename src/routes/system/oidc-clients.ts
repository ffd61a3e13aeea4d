/** System API: the OpenID Connect clients of a workspace (../shared/api.md "Clients"). Scope identity. */
import { createRoute, z } from "@hono/zod-openapi";
import { bearerSecurity, errors, json, jsonBody } from "../../api/common";
import {
  OidcClient,
  OidcClientInput,
  OidcClientListParams,
  OidcClientParams,
  OidcClientRotated,
  OidcClientUpdate,
  OidcClientWithSecret,
} from "../../api/oidc-client";
import { oidcClientView } from "../../api/views";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { inWorkspace } from "../../services/call";
import {
  type ClientWithSecret,
  createOidcClient,
  deleteOidcClient,
  getOidcClient,
  listOidcClients,
  rotateOidcClientSecret,
  updateOidcClient,
} from "../../services/oidc-clients";

const tags = ["OIDC clients"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);

const withSecret = ({ client, secret }: ClientWithSecret) => ({
  ...oidcClientView(client),
  ...(secret === undefined ? {} : { client_secret: secret }),
});

export const oidcClients = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/workspaces/{wid}/clients",
      tags,
      security,
      request: { params: OidcClientListParams },
      responses: {
        200: json(z.object({ clients: z.array(OidcClient) }), "The workspace's clients, oldest first (never their secrets)"),
        ...common,
      },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      return c.json({ clients: (await listOidcClients(inWorkspace(callOf(c, tid), wid))).map(oidcClientView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{wid}/clients",
      tags,
      security,
      request: { params: OidcClientListParams, ...jsonBody(OidcClientInput) },
      description:
        "Registers an OpenID Connect client of the workspace. A confidential client (client_secret_basic or client_secret_post) gets a secret (256 random bits) that is in this answer only; a public client (none) has none and uses PKCE alone. 409 client_exists when client_id is taken in the tenant.",
      responses: {
        201: json(OidcClientWithSecret, "The created client (with client_secret when confidential)"),
        ...common,
        ...errors(409, 413, 415, 422),
      },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      return c.json(withSecret(await createOidcClient(inWorkspace(callOf(c, tid), wid), c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/workspaces/{wid}/clients/{cid}",
      tags,
      security,
      request: { params: OidcClientParams },
      responses: { 200: json(OidcClient, "The client"), ...common },
    }),
    async (c) => {
      const { tid, wid, cid } = c.req.valid("param");
      return c.json(oidcClientView(await getOidcClient(inWorkspace(callOf(c, tid), wid), cid)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/workspaces/{wid}/clients/{cid}",
      tags,
      security,
      request: { params: OidcClientParams, ...jsonBody(OidcClientUpdate) },
      description:
        "Fields that are absent keep their value; the merged registration is validated as a whole (422 naming the field). Switching to none removes the secret; switching a public client to a confidential method creates one, returned in this answer only.",
      responses: { 200: json(OidcClientWithSecret, "The updated client"), ...common, ...errors(413, 415, 422) },
    }),
    async (c) => {
      const { tid, wid, cid } = c.req.valid("param");
      return c.json(withSecret(await updateOidcClient(inWorkspace(callOf(c, tid), wid), cid, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/workspaces/{wid}/clients/{cid}",
      tags,
      security,
      request: { params: OidcClientParams },
      description: "Its codes, refresh tokens and consents go with it.",
      responses: { 204: { description: "Deleted" }, ...common },
    }),
    async (c) => {
      const { tid, wid, cid } = c.req.valid("param");
      await deleteOidcClient(inWorkspace(callOf(c, tid), wid), cid);
      return c.body(null, 204);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/workspaces/{wid}/clients/{cid}/secret",
      tags,
      security,
      request: { params: OidcClientParams },
      description:
        "Rotates the secret of a confidential client: the new secret is in this answer only and the old one stops working at once. 409 public_client for a public client.",
      responses: { 200: json(OidcClientRotated, "The client with its new secret"), ...common, ...errors(409) },
    }),
    async (c) => {
      const { tid, wid, cid } = c.req.valid("param");
      const { client, secret } = await rotateOidcClientSecret(inWorkspace(callOf(c, tid), wid), cid);
      return c.json({ ...oidcClientView(client), client_secret: secret }, 200);
    },
  );
