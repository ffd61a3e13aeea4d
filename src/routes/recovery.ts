/** Recovery API under /{tid}/{wid}/recover ("Lost your passkey?"): a code to a verified address, then a new passkey. */
import { createRoute } from "@hono/zod-openapi";
import { errors, json, jsonBody } from "../api/common";
import { RecoveryCompleteInput, RecoveryOptionsInput, RecoveryRequestInput, RecoveryResult } from "../api/recovery";
import { WorkspaceScopedParams } from "../api/signin";
import { CreationOptions } from "../api/webauthn";
import { callOf } from "../http/context";
import { inWorkspace } from "../services/call";
import { beginRecovery, completeRecovery, requestRecovery } from "../services/recovery";
import { publicFlowApp, withSession } from "./signin";

const tags = ["Recovery"];

const OFFERED =
  "404 when the workspace is unknown, has no passkey mode, or none of its pools has `self_service.recovery`. " +
  "A user can recover only when the user's own pool has recovery on.";
const FAILURE =
  "Any code failure (unknown or unverified address, user of a pool without recovery, missing, expired, wrong or used " +
  "code) is the same 401 otp_invalid; 5 wrong codes kill the code, and wrong codes count against the pool's daily limit (429).";

export const recovery = publicFlowApp("recover");

recovery.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/recover/request",
    tags,
    summary: "Recovery: send a one-time code to a verified address",
    description:
      "Always 204, with the same answer and timing whether or not the address is a verified address of a user who may " +
      "recover (the code is made and sent after the answer). A known user gets a code of purpose recover_webauthn (one " +
      "live code per user: a new request replaces it), within the pool's code requests per user per hour (429 with " +
      `Retry-After; an address of nobody is counted alike). ${OFFERED}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(RecoveryRequestInput) },
    responses: { 204: { description: "Accepted (whether or not a code was sent)" }, ...errors(400, 404, 413, 415, 429, 503) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    await requestRecovery(inWorkspace(callOf(c, tid), wid), c.req.valid("json"));
    return c.body(null, 204);
  },
);

recovery.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/recover/webauthn/options",
    tags,
    summary: "Recovery: check the code (without using it up) and get creation options in the workspace's mode",
    description:
      "A right code stays valid, so a cancelled passkey prompt can be retried; a wrong one counts an attempt. Smart " +
      `workspaces get Smart options (residentKey required), Classic ones Classic options. ${FAILURE} ${OFFERED}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(RecoveryOptionsInput) },
    responses: { 200: json(CreationOptions, "PublicKeyCredentialCreationOptionsJSON"), ...errors(400, 401, 404, 413, 415, 429, 503) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await beginRecovery(inWorkspace(callOf(c, tid), wid), c.req.valid("json")), 200);
  },
);

recovery.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/recover/webauthn/complete",
    tags,
    summary: "Recovery: register the new passkey, use up the code, and sign in",
    description:
      "`credential` answers the options issued for that address. The code is used up in the batch that stores the " +
      "passkey; the event passkey.recovered is audited and every verified address of the user gets a notice (purpose " +
      "passkey_recovered, no code). The user's other passkeys are kept. The answer is a passkey sign-in's: a user token " +
      "(amr from the new passkey) and, with `authz`, `continue_url` and the provider session cookie. A failed " +
      "registration after a right code is 400 registration_failed (or the pool's authenticator policy's error) and uses " +
      `the code up; nothing is stored. ${FAILURE} ${OFFERED}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(RecoveryCompleteInput) },
    responses: { 200: json(RecoveryResult, "Signed in"), ...errors(400, 401, 404, 409, 413, 415, 429, 503) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(withSession(c, tid, wid, await completeRecovery(inWorkspace(callOf(c, tid), wid), c.req.valid("json"))), 200);
  },
);
