/** System API: users of a pool. */
import { createRoute, z } from "@hono/zod-openapi";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { bearerSecurity, errors, json, jsonBody } from "../../api/common";
import { PoolParams } from "../../api/pool";
import { ListQuery, User, UserInput, UserParams, UserUpdate, UserWithData } from "../../api/user";
import { createUser, deleteUser, getUser, listUsers, updateUser } from "../../services/users";
import { userView, userWithDataView } from "../../api/views";

const tags = ["Users"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);

export const users = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/pools/{ipID}/users",
      tags,
      security,
      request: { params: PoolParams, query: ListQuery },
      description:
        "Newest first; `limit` (default 100, at most 1000) and `offset` page through the pool; `search` keeps the users with an identifier containing it (case-insensitive).",
      responses: { 200: json(z.object({ users: z.array(User) }), "A page of the pool's users"), ...common },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      const { limit = 100, offset = 0, search } = c.req.valid("query");
      return c.json({ users: (await listUsers(callOf(c, tid), ipID, { limit, offset, search })).map(userView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/pools/{ipID}/users",
      tags,
      security,
      request: { params: PoolParams, ...jsonBody(UserInput) },
      responses: { 201: json(UserWithData, "The created user"), ...common, ...errors(409, 413, 415) },
    }),
    async (c) => {
      const { tid, ipID } = c.req.valid("param");
      return c.json(userWithDataView(await createUser(callOf(c, tid), ipID, c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/pools/{ipID}/users/{userID}",
      tags,
      security,
      request: { params: UserParams },
      summary: "Get User Details",
      responses: { 200: json(UserWithData, "The user with its credentials"), ...common },
    }),
    async (c) => {
      const { tid, ipID, userID } = c.req.valid("param");
      return c.json(userWithDataView(await getUser(callOf(c, tid), ipID, userID)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/pools/{ipID}/users/{userID}",
      tags,
      security,
      request: { params: UserParams, ...jsonBody(UserUpdate) },
      description:
        "Fields that are absent keep their value; identifiers and verifiable_addresses, when given, replace the lists; a password credential replaces the password.",
      responses: { 200: json(UserWithData, "The updated user"), ...common, ...errors(409, 413, 415) },
    }),
    async (c) => {
      const { tid, ipID, userID } = c.req.valid("param");
      return c.json(userWithDataView(await updateUser(callOf(c, tid), ipID, userID, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/pools/{ipID}/users/{userID}",
      tags,
      security,
      request: { params: UserParams },
      responses: { 204: { description: "Deleted" }, ...common },
    }),
    async (c) => {
      const { tid, ipID, userID } = c.req.valid("param");
      await deleteUser(callOf(c, tid), ipID, userID);
      return c.body(null, 204);
    },
  );
