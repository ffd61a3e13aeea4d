/** System API: passkeys of a user (Classic and Smart enrollment, rename, delete). */
import { createRoute, z } from "@hono/zod-openapi";
import { callOf } from "../../http/context";
import { newApp } from "../../http/app";
import { bearerSecurity, errors, Id, json, jsonBody } from "../../api/common";
import { Credential, UserParams } from "../../api/user";
import { CreationOptions, CredentialIdB64, NameInput, RegistrationResponse } from "../../api/webauthn";
import { beginEnrollment, completeEnrollment, deletePasskey, updatePasskeyName } from "../../services/passkeys";
import { credentialView } from "../../api/views";

const tags = ["Passkeys"];
const security = bearerSecurity;
const common = errors(400, 401, 403, 404);
const CredentialParams = z.object({ tid: Id, ipID: Id, userID: Id, credentialID: CredentialIdB64.min(1) });
const Credentials = z.object({ credentials: z.array(Credential) }).openapi("Credentials");

const families = [
  { segment: "webauthn", mode: "classic" as const, label: "Classic" },
  { segment: "usernameless-webauthn", mode: "smart" as const, label: "Smart" },
];

export const passkeys = newApp();

for (const { segment, mode, label } of families) {
  passkeys.openapi(
    createRoute({
      method: "post",
      path: `/pools/{ipID}/users/{userID}/${segment}/create/begin`,
      tags,
      security,
      summary: `${label} passkey enrollment: creation options`,
      description:
        mode === "smart"
          ? 'authenticatorSelection.residentKey is "required" (requireResidentKey true); credProps is requested.'
          : 'authenticatorSelection.residentKey is "discouraged"; credProps is requested.',
      request: { params: UserParams },
      responses: { 200: json(CreationOptions, "PublicKeyCredentialCreationOptionsJSON"), ...common },
    }),
    async (c) => {
      const { tid, ipID, userID } = c.req.valid("param");
      return c.json(await beginEnrollment(callOf(c, tid), { poolId: ipID, userId: userID }, mode), 200);
    },
  );
  passkeys.openapi(
    createRoute({
      method: "post",
      path: `/pools/{ipID}/users/{userID}/${segment}/create/complete`,
      tags,
      security,
      summary: `${label} passkey enrollment: verify and store`,
      request: { params: UserParams, ...jsonBody(RegistrationResponse) },
      responses: { 200: json(Credentials, "All the user's passkeys"), ...common, ...errors(409, 413, 415) },
    }),
    async (c) => {
      const { tid, ipID, userID } = c.req.valid("param");
      const rows = await completeEnrollment(callOf(c, tid), { poolId: ipID, userId: userID }, mode, c.req.valid("json"));
      return c.json({ credentials: rows.map(credentialView) }, 200);
    },
  );
}

passkeys.openapi(
  createRoute({
    method: "delete",
    path: "/pools/{ipID}/users/{userID}/webauthn/{credentialID}",
    tags,
    security,
    summary: "Delete a passkey (an administrator may remove the last one)",
    request: { params: CredentialParams },
    responses: { 204: { description: "Deleted" }, ...common },
  }),
  async (c) => {
    const { tid, ipID, userID, credentialID } = c.req.valid("param");
    await deletePasskey(callOf(c, tid), { poolId: ipID, userId: userID }, credentialID);
    return c.body(null, 204);
  },
);

passkeys.openapi(
  createRoute({
    method: "put",
    path: "/pools/{ipID}/users/{userID}/webauthn/{credentialID}/name",
    tags,
    security,
    summary: "Name a passkey (1..64 characters after trimming and NFC; no control or bidi-override characters)",
    request: { params: CredentialParams, ...jsonBody(NameInput) },
    responses: { 204: { description: "Renamed" }, ...common, ...errors(413, 415) },
  }),
  async (c) => {
    const { tid, ipID, userID, credentialID } = c.req.valid("param");
    await updatePasskeyName(callOf(c, tid), { poolId: ipID, userId: userID }, credentialID, c.req.valid("json").name);
    return c.body(null, 204);
  },
);
