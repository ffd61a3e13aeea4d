/** Sign-in API under /{tid}/{wid}/login. */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../http/principal";
import { callOf } from "../http/context";
import { workspaceCors } from "../http/cors";
import { newApp } from "../http/app";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { signinIpLimit } from "../http/rate-limit";
import { errors, json, jsonBody } from "../api/common";
import { FinishInput, SigninConfig, OptionsInput, OptionsResponse, PasswordInput, TokenOrNext, WorkspaceScopedParams } from "../api/signin";
import { inWorkspace, type WorkspaceCall } from "../services/call";
import { type OidcContinuation, signinConfig, passkeyFinish, passkeyOptions, passwordSignin } from "../services/signin";
import { setSessionCookie } from "./oidc-authorize";

const tags = ["Sign-in"];

/** The call in the path's workspace. */
function signinCall(c: Context<AppEnv>, tid: string, wid: string): WorkspaceCall {
  return inWorkspace(callOf(c, tid), wid);
}

/** A sign-in that carried `authz` started a provider session: set its cookie; the answer never carries the secret. */
export function withSession<T extends object>(c: Context<AppEnv>, tid: string, wid: string, result: T & OidcContinuation): T {
  const { providerSession, ...rest } = result;
  if (providerSession) setSessionCookie(c, tid, wid, providerSession);
  return rest as T;
}

/**
 * The sub-app of a public flow under /{tid}/{wid}/<segment>/ (sign-up, recovery), guarded like sign-in: the workspace's
 * CORS, no-store, bounded JSON bodies and the sign-in IP limit.
 */
export function publicFlowApp(segment: string) {
  const app = newApp();
  app.use(`/:tid/:wid/${segment}/*`, workspaceCors);
  app.use(`/:tid/:wid/${segment}/*`, noStore, limitBody, requireContentType("json"), signinIpLimit);
  return app;
}

export const signin = newApp();
signin.use("/:tid/:wid/login/*", workspaceCors);
signin.use("/:tid/:wid/login/*", noStore, limitBody, requireContentType("json"));
signin.use("/:tid/:wid/login/webauthn/*", signinIpLimit);
signin.use("/:tid/:wid/login/password", signinIpLimit);

signin.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/login/config",
    tags,
    summary: "Passkey mode and sign-in methods, preferred first",
    request: { params: WorkspaceScopedParams },
    responses: { 200: json(SigninConfig, "Sign-in configuration"), ...errors(400, 404) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await signinConfig(signinCall(c, tid, wid)), 200);
  },
);

signin.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/login/webauthn/options",
    tags,
    summary: "Passkey request options: Smart {}, Classic {identifier}, second factor {login_id}",
    description:
      "Smart: empty allowCredentials. Classic: the user's credential ids; an unknown identifier gets the same shape with stable fake ids.",
    request: { params: WorkspaceScopedParams, ...jsonBody(OptionsInput) },
    responses: { 200: json(OptionsResponse, "Options and the sign-in transaction"), ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await passkeyOptions(signinCall(c, tid, wid), c.req.valid("json")), 200);
  },
);

signin.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/login/webauthn/finish",
    tags,
    summary: "Verify a passkey assertion: tokens, or the next factor",
    description:
      "Every verification failure is the same 401 authentication_failed. Its details are {} except " +
      '{"unknown_credential": true} when no tenant stores the assertion\'s credential id (and it is neither listed in the ' +
      "options nor one of Classic's fake ids): the hosted page then calls PublicKeyCredential.signalUnknownCredential.",
    request: { params: WorkspaceScopedParams, ...jsonBody(FinishInput) },
    responses: { 200: json(TokenOrNext, "Tokens or {login_id, next}"), ...errors(400, 401, 404, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(withSession(c, tid, wid, await passkeyFinish(signinCall(c, tid, wid), c.req.valid("json"))), 200);
  },
);

signin.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/login/password",
    tags,
    summary: "Password first factor",
    request: { params: WorkspaceScopedParams, ...jsonBody(PasswordInput) },
    responses: { 200: json(TokenOrNext, "Tokens or {login_id, next}"), ...errors(400, 401, 403, 404, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(withSession(c, tid, wid, await passwordSignin(signinCall(c, tid, wid), c.req.valid("json"))), 200);
  },
);
