/** Self-service API under /{tid}/{wid}/identity/v2/self (user tokens). */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { requireUser } from "../http/bearer";
import type { UserEnv } from "../http/principal";
import { callOf } from "../http/context";
import { workspaceCors } from "../http/cors";
import { newApp } from "../http/app";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { bearerSecurity, errors, Id, json, jsonBody } from "../api/common";
import { Credential } from "../api/user";
import { SelfUser } from "../api/self";
import { CreationOptions, CredentialIdB64, NameInput, RegistrationResponse } from "../api/webauthn";
import {
  beginSelfEnrollment,
  completeSelfEnrollment,
  deleteSelfPasskey,
  getSelfWithIdentity,
  updateSelfPasskeyName,
} from "../services/self";
import { credentialView, userWithDataView } from "../api/views";

const tags = ["Self-service"];
const security = bearerSecurity;
const Params = z.object({ tid: Id, wid: Id });
const CredParams = z.object({ tid: Id, wid: Id, credentialID: CredentialIdB64.min(1) });
const manage = requireUser("manage_ss_profile", { recent: true });
const recentNote =
  "Needs scope manage_ss_profile and a sign-in within the last 300 s (else 401 insufficient_user_authentication, max_age=300).";

/** The call and the signed-in user that requireUser established (never absent after it). */
const signedIn = (c: Context<UserEnv>) => [callOf(c, c.var.user.tenantId), c.var.user] as const;

export const self = newApp();
self.use("/:tid/:wid/identity/v2/self/*", workspaceCors);
self.use("/:tid/:wid/identity/v2/self/*", noStore, limitBody, requireContentType("json"));

self.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/identity/v2/self/me",
    tags,
    security,
    middleware: [requireUser("view_ss_profile")] as const,
    summary: "The signed-in user with its credentials",
    description:
      "Also `webauthn_user`: the RP ID and WebAuthn user (handle, name, display name) of the user's passkeys in this " +
      "workspace, for the hosted pages' Signal API calls (signalAllAcceptedCredentials, signalCurrentUserDetails).",
    request: { params: Params },
    responses: { 200: json(SelfUser, "The user"), ...errors(400, 401, 403, 404) },
  }),
  async (c) => {
    const { user, webauthnUser } = await getSelfWithIdentity(...signedIn(c));
    return c.json({ ...userWithDataView(user), webauthn_user: webauthnUser }, 200);
  },
);

for (const [segment, mode] of [
  ["webauthn", "classic"],
  ["usernameless-webauthn", "smart"],
] as const) {
  self.openapi(
    createRoute({
      method: "post",
      path: `/{tid}/{wid}/identity/v2/self/${segment}/create/begin`,
      tags,
      security,
      middleware: [manage] as const,
      summary: `Add a passkey (${mode === "smart" ? "Smart" : "Classic"}): creation options`,
      description: `${recentNote} The family must match the workspace's mode (else 409 passkey_mode_mismatch).`,
      request: { params: Params },
      responses: { 200: json(CreationOptions, "PublicKeyCredentialCreationOptionsJSON"), ...errors(400, 401, 403, 404, 409) },
    }),
    async (c) => c.json(await beginSelfEnrollment(...signedIn(c), mode), 200),
  );
  self.openapi(
    createRoute({
      method: "post",
      path: `/{tid}/{wid}/identity/v2/self/${segment}/create/complete`,
      tags,
      security,
      middleware: [manage] as const,
      summary: `Add a passkey (${mode === "smart" ? "Smart" : "Classic"}): verify and store`,
      description: recentNote,
      request: { params: Params, ...jsonBody(RegistrationResponse) },
      responses: {
        200: json(z.object({ credentials: z.array(Credential) }), "All the user's passkeys"),
        ...errors(400, 401, 403, 404, 409, 413, 415),
      },
    }),
    async (c) => {
      const rows = await completeSelfEnrollment(...signedIn(c), mode, c.req.valid("json"));
      return c.json({ credentials: rows.map(credentialView) }, 200);
    },
  );
}

self.openapi(
  createRoute({
    method: "delete",
    path: "/{tid}/{wid}/identity/v2/self/webauthn/{credentialID}",
    tags,
    security,
    middleware: [manage] as const,
    summary: "Delete one of your passkeys (never the last: 409 last_credential)",
    description: recentNote,
    request: { params: CredParams },
    responses: { 204: { description: "Deleted" }, ...errors(400, 401, 403, 404, 409) },
  }),
  async (c) => {
    await deleteSelfPasskey(...signedIn(c), c.req.valid("param").credentialID);
    return c.body(null, 204);
  },
);

self.openapi(
  createRoute({
    method: "put",
    path: "/{tid}/{wid}/identity/v2/self/webauthn/{credentialID}/name",
    tags,
    security,
    middleware: [manage] as const,
    summary: "Name one of your passkeys",
    description: recentNote,
    request: { params: CredParams, ...jsonBody(NameInput) },
    responses: { 204: { description: "Renamed" }, ...errors(400, 401, 403, 404, 413, 415) },
  }),
  async (c) => {
    await updateSelfPasskeyName(...signedIn(c), c.req.valid("param").credentialID, c.req.valid("json").name);
    return c.body(null, 204);
  },
);
