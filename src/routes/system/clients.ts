/** System API: a tenant's client-credentials clients. Bootstrap client only. */
import { createRoute, z } from "@hono/zod-openapi";
import { requireBootstrap } from "../../http/bootstrap";
import { iso } from "../../db/client";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { bearerSecurity, errors, json, jsonBody, TenantParams } from "../../api/common";
import { ClientParams, SystemClient, SystemClientCreated, SystemClientInput } from "../../api/tenant";
import { type ClientInfo, createClient, deleteClient, listClients } from "../../services/clients";

const tags = ["System clients"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);
const middleware = [requireBootstrap];

const clientView = (k: ClientInfo) => ({
  client_id: k.clientId,
  tenant_id: k.tenantId,
  name: k.name,
  scopes: k.scopes.split(" ").filter(Boolean),
  created_at: iso(k.createdAt)!,
});

export const clients = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/clients",
      tags,
      security,
      middleware,
      request: { params: TenantParams },
      responses: {
        200: json(z.object({ clients: z.array(SystemClient) }), "The tenant's stored clients (never their secrets)"),
        ...common,
      },
    }),
    async (c) => c.json({ clients: (await listClients(callOf(c, c.req.valid("param").tid))).map(clientView) }, 200),
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/clients",
      tags,
      security,
      middleware,
      request: { params: TenantParams, ...jsonBody(SystemClientInput) },
      description: "The client id (128 random bits) and secret (256 random bits) are generated; the secret is in this answer only.",
      responses: { 201: json(SystemClientCreated, "The created client with its secret"), ...common, ...errors(413, 415) },
    }),
    async (c) => {
      const { tid } = c.req.valid("param");
      const { client, secret } = await createClient(callOf(c, tid), c.req.valid("json"));
      return c.json({ ...clientView(client), client_secret: secret }, 201);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/clients/{cid}",
      tags,
      security,
      middleware,
      request: { params: ClientParams },
      description: "Its secret stops working at once; access tokens it already holds stay valid until they expire.",
      responses: { 204: { description: "Deleted" }, ...common },
    }),
    async (c) => {
      const { tid, cid } = c.req.valid("param");
      await deleteClient(callOf(c, tid), cid);
      return c.body(null, 204);
    },
  );
