/** Passkey sign-up API under /{tid}/{wid}/signup (public, like /login): a code to an email address, then a passkey. */
import { createRoute } from "@hono/zod-openapi";
import { errors, json, jsonBody } from "../api/common";
import { WorkspaceScopedParams } from "../api/signin";
import { SignupCompleteInput, SignupOptionsInput, SignupRequestInput, SignupResult, SignupStarted } from "../api/signup";
import { CreationOptions } from "../api/webauthn";
import { callOf } from "../http/context";
import { inWorkspace } from "../services/call";
import { beginSignup, completeSignup, requestSignup } from "../services/signup";
import { publicFlowApp, withSession } from "./signin";

const tags = ["Sign-up"];

const OFF =
  "404 when the workspace is unknown, has no passkey mode, or none of its pools has self_service.sign_up (the first such " +
  "pool, in the workspace's order, receives the new users).";
const CODE_FAILURE =
  "Any failure of the code (unknown or expired signup_id, wrong or used code, an address that already has an account) " +
  "is the same 401 otp_invalid; a wrong code takes one of the code's 5 attempts and counts against the address's " +
  "otp_failures_per_day (then 429 rate_limited with Retry-After).";

export const signup = publicFlowApp("signup");

signup.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/signup/request",
    tags,
    summary: "Sign-up: send a one-time code to an email address",
    description:
      "Always the same 200 {signup_id}, whether or not the address has an account. A new address gets a code (purpose " +
      "sign_up; the pool's otp_settings.enroll_webauthn length and TTL). An address that already has an account in the " +
      "workspace's pools gets no code and no second account: its owner gets a notice (purpose sign_up_existing_account, " +
      "no code), and every later step of that signup_id fails like a wrong code. Requests per address are limited by the " +
      `pool's otp_requests_per_hour (429 rate_limited with Retry-After). ${OFF}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(SignupRequestInput) },
    responses: { 200: json(SignupStarted, "The sign-up is pending its code"), ...errors(400, 404, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await requestSignup(inWorkspace(callOf(c, tid), wid), c.req.valid("json")), 200);
  },
);

signup.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/signup/webauthn/options",
    tags,
    summary: "Sign-up: check the code (without using it up) and get creation options for the new account",
    description:
      "The options are for a new user handle, in the workspace's passkey mode (Smart: residentKey required). The code " +
      `stays valid, so a cancelled passkey prompt can be retried. ${CODE_FAILURE} ${OFF}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(SignupOptionsInput) },
    responses: { 200: json(CreationOptions, "PublicKeyCredentialCreationOptionsJSON"), ...errors(400, 401, 404, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await beginSignup(inWorkspace(callOf(c, tid), wid), c.req.valid("json")), 200);
  },
);

signup.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/signup/webauthn/complete",
    tags,
    summary: "Sign-up: register the passkey, create the account and sign in",
    description:
      "`credential` answers the options of this sign-up. The account (the address as its email identifier and a verified " +
      "address), its passkey and the code's use are one D1 batch: a second or parallel complete makes no second account " +
      "(401 otp_invalid). A registration that fails verification is 400 registration_failed and stores and uses up nothing. " +
      "An identifier taken meanwhile is 409 identifier_taken. The answer is a passkey sign-in's: tokens, and with `authz` " +
      `the provider session cookie and continue_url. ${CODE_FAILURE} ${OFF}`,
    request: { params: WorkspaceScopedParams, ...jsonBody(SignupCompleteInput) },
    responses: { 200: json(SignupResult, "Signed in"), ...errors(400, 401, 404, 409, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(withSession(c, tid, wid, await completeSignup(inWorkspace(callOf(c, tid), wid), c.req.valid("json"))), 200);
  },
);
