/** System API: identity pools. */
import { createRoute, z } from "@hono/zod-openapi";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { bearerSecurity, errors, json, jsonBody, TenantParams } from "../../api/common";
import { Pool, PoolInput, PoolParams, PoolUpdate } from "../../api/pool";
import { createPool, deletePool, getPool, listPools, updatePool } from "../../services/pools";
import { poolView } from "../../api/views";

const tags = ["Pools"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);

export const pools = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/pools",
      tags,
      security,
      request: { params: TenantParams },
      responses: { 200: json(z.object({ pools: z.array(Pool) }), "All pools of the tenant"), ...common },
    }),
    async (c) => {
      const { tid } = c.req.valid("param");
      return c.json({ pools: (await listPools(callOf(c, tid))).map(poolView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/pools",
      tags,
      security,
      request: { params: TenantParams, ...jsonBody(PoolInput) },
      responses: { 201: json(Pool, "The created pool"), ...common, ...errors(409, 413, 415, 422) },
    }),
    async (c) => {
      const { tid } = c.req.valid("param");
      return c.json(poolView(await createPool(callOf(c, tid), c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/pools/{ipID}",
      tags,
      security,
      request: { params: PoolParams },
      responses: { 200: json(Pool, "The pool"), ...common },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      return c.json(poolView(await getPool(callOf(c, tid), ipID)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/pools/{ipID}",
      tags,
      security,
      request: { params: PoolParams, ...jsonBody(PoolUpdate) },
      description: "Fields that are absent keep their value; the merged configuration is validated as a whole.",
      responses: { 200: json(Pool, "The updated pool"), ...common, ...errors(413, 415, 422) },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      return c.json(poolView(await updatePool(callOf(c, tid), ipID, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/pools/{ipID}",
      tags,
      security,
      request: { params: PoolParams },
      description: "Deletes the pool with its users and their credentials. 409 pool_in_use while a workspace lists it.",
      responses: { 204: { description: "Deleted" }, ...common, ...errors(409) },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      await deletePool(callOf(c, tid), ipID);
      return c.body(null, 204);
    },
  );
