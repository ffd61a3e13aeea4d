/** System API: workspaces. */
import { createRoute, z } from "@hono/zod-openapi";
import { newApp } from "../../http/app";
import { callOf } from "../../http/context";
import { bearerSecurity, errors, json, jsonBody, TenantParams } from "../../api/common";
import { Workspace, WorkspaceInput, WorkspaceParams, WorkspaceUpdate } from "../../api/workspace";
import { createWorkspace, deleteWorkspace, getWorkspace, listWorkspaces, updateWorkspace } from "../../services/workspaces";
import { workspaceView } from "../../api/views";

const tags = ["Workspaces"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);

export const workspaces = newApp()
  .openapi(
    createRoute({
      method: "get",
      path: "/workspaces",
      tags,
      security,
      request: { params: TenantParams },
      responses: { 200: json(z.object({ workspaces: z.array(Workspace) }), "All workspaces of the tenant"), ...common },
    }),
    async (c) => {
      const { tid } = c.req.valid("param");
      return c.json({ workspaces: (await listWorkspaces(callOf(c, tid))).map(workspaceView) }, 200);
    },
  )
  .openapi(
    createRoute({
      method: "post",
      path: "/workspaces",
      tags,
      security,
      request: { params: TenantParams, ...jsonBody(WorkspaceInput) },
      description:
        'authentication_mechanisms defaults to ["usernameless_webauthn"] (Smart). webauthn and usernameless_webauthn together are 422 passkey_mode_conflict.',
      responses: { 201: json(Workspace, "The created workspace"), ...common, ...errors(409, 413, 415, 422) },
    }),
    async (c) => {
      const { tid } = c.req.valid("param");
      return c.json(workspaceView(await createWorkspace(callOf(c, tid), c.req.valid("json"))), 201);
    },
  )
  .openapi(
    createRoute({
      method: "get",
      path: "/workspaces/{wid}",
      tags,
      security,
      request: { params: WorkspaceParams },
      responses: { 200: json(Workspace, "The workspace"), ...common },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      return c.json(workspaceView(await getWorkspace(callOf(c, tid), wid)), 200);
    },
  )
  .openapi(
    createRoute({
      method: "put",
      path: "/workspaces/{wid}",
      tags,
      security,
      request: { params: WorkspaceParams, ...jsonBody(WorkspaceUpdate) },
      description: "Fields that are absent keep their value.",
      responses: { 200: json(Workspace, "The updated workspace"), ...common, ...errors(413, 415, 422) },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      return c.json(workspaceView(await updateWorkspace(callOf(c, tid), wid, c.req.valid("json"))), 200);
    },
  )
  .openapi(
    createRoute({
      method: "delete",
      path: "/workspaces/{wid}",
      tags,
      security,
      request: { params: WorkspaceParams },
      responses: { 204: { description: "Deleted" }, ...common },
    }),
    async (c) => {
      const { tid, wid } = c.req.valid("param");
      await deleteWorkspace(callOf(c, tid), wid);
      return c.body(null, 204);
    },
  );
