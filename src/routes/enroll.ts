/** Enrollment-link API under /{tid}/{wid}/enroll: a passkey for a user who holds a one-time code (no token). */
import { createRoute, z } from "@hono/zod-openapi";
import { callOf } from "../http/context";
import { inWorkspace } from "../services/call";
import { newApp } from "../http/app";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { errors, json, jsonBody } from "../api/common";
import { WorkspaceScopedParams } from "../api/signin";
import { CreationOptions, RegistrationResponse } from "../api/webauthn";
import { beginLinkEnrollment, completeLinkEnrollment } from "../services/enroll-link";

const tags = ["Enrollment links"];

// Loose on purpose: an unknown user or a malformed code is the same 401 otp_invalid as a wrong code, not a 400.
const Link = {
  user_id: z.string().max(64).openapi({ description: "the user's id (the link's `user` parameter)" }),
  code: z.string().max(32).openapi({ description: "the one-time code (purpose enroll_webauthn) from add/request", example: "12345678" }),
};
const OptionsInput = z.object(Link).openapi("EnrollLinkOptionsInput");
const CompleteInput = z.object({ ...Link, credential: RegistrationResponse }).openapi("EnrollLinkCompleteInput");

const FAILURE =
  "Any failure (unknown workspace or user, user outside the workspace's pools, passkeys not enabled, " +
  "missing, expired, wrong or used code, failed verification) is the same 401 otp_invalid.";

export const enroll = newApp();
enroll.use("/:tid/:wid/enroll/webauthn/*", noStore, limitBody, requireContentType("json"));

enroll.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/enroll/webauthn/options",
    tags,
    summary: "Enrollment link: check the code (without using it up) and get creation options in the workspace's mode",
    description:
      "The user must belong to one of the workspace's pools. The code is checked against the user's live " +
      "enroll_webauthn code; a wrong code counts an attempt (5 wrong attempts kill the code) but a right one stays valid, " +
      "so a cancelled passkey prompt can be retried. Smart workspaces get Smart options (residentKey required), " +
      `Classic ones Classic options. ${FAILURE}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(OptionsInput) },
    responses: { 200: json(CreationOptions, "PublicKeyCredentialCreationOptionsJSON"), ...errors(400, 401, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await beginLinkEnrollment(inWorkspace(callOf(c, tid), wid), c.req.valid("json")), 200);
  },
);

enroll.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/enroll/webauthn/complete",
    tags,
    summary: "Enrollment link: use up the code and register the passkey",
    description:
      "`credential` answers the options issued for that user. The right code is used up even when the passkey " +
      `then fails to register. ${FAILURE}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(CompleteInput) },
    responses: { 204: { description: "Passkey registered" }, ...errors(400, 401, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    await completeLinkEnrollment(inWorkspace(callOf(c, tid), wid), c.req.valid("json"));
    return c.body(null, 204);
  },
);
