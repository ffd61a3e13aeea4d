/** Sign-in API under /{tid}/{wid}/login. */
import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { AppEnv } from "../auth/principal";
import { serviceOrigin } from "../http/context";
import { workspaceCors } from "../http/cors";
import { newApp } from "../http/app";
import { limitBody, noStore, requireContentType } from "../http/guards";
import { signinIpLimit } from "../http/rate-limit";
import { errors, json, jsonBody } from "../schemas/common";
import {
  FinishInput,
  LoginConfig,
  OptionsInput,
  OptionsResponse,
  PasswordInput,
  TokenOrNext,
  WorkspaceScopedParams,
} from "../schemas/login";
import { loginConfig, passkeyFinish, passkeyOptions, passwordLogin, type SigninScope } from "../services/signin";

const tags = ["Sign-in"];

function scopeOf(c: Context<AppEnv>, tid: string, wid: string): SigninScope {
  // One reading of the service's origin for both the ceremony and the token issuer.
  const { origin, hostname, issuerBase } = serviceOrigin(c.env, c.req.url);
  return { env: c.env, ctx: { origin, hostname }, issuerBase, tenantId: tid, workspaceId: wid };
}

export const login = newApp();
login.use("/:tid/:wid/login/*", workspaceCors);
login.use("/:tid/:wid/login/*", noStore, limitBody, requireContentType("json"));
login.use("/:tid/:wid/login/webauthn/*", signinIpLimit);
login.use("/:tid/:wid/login/password", signinIpLimit);

login.openapi(
  createRoute({
    method: "get",
    path: "/{tid}/{wid}/login/config",
    tags,
    summary: "Passkey mode and sign-in methods, preferred first",
    request: { params: WorkspaceScopedParams },
    responses: { 200: json(LoginConfig, "Sign-in configuration"), ...errors(400, 404) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await loginConfig(scopeOf(c, tid, wid)), 200);
  },
);

login.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/login/webauthn/options",
    tags,
    summary: "Passkey request options: Smart {}, Classic {identifier}, second factor {login_id}",
    description:
      "Smart: empty allowCredentials. Classic: the user's credential ids; an unknown identifier gets the same shape with stable fake ids.",
    request: { params: WorkspaceScopedParams, ...jsonBody(OptionsInput) },
    responses: { 200: json(OptionsResponse, "Options and the login transaction"), ...errors(400, 401, 403, 404, 413, 415, 422, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await passkeyOptions(scopeOf(c, tid, wid), c.req.valid("json"), Date.now()), 200);
  },
);

login.openapi(
  createRoute({
    method: "post",
    path: "/{tid}/{wid}/login/webauthn/finish",
    tags,
    summary: "Verify a passkey assertion: tokens, or the next factor",
    description: "Every verification failure is the same 401 authentication_failed.",
    request: { params: WorkspaceScopedParams, ...jsonBody(FinishInput) },
    responses: { 200: json(TokenOrNext, "Tokens or {login_id, next}"), ...errors(400, 401, 404, 413, 415, 429) },
  }),
  async (c) => {
    const { tid, wid } = c.req.valid("param");
    return c.json(await passkeyFinish(scopeOf(c, tid, wid), c.req.valid("json"), Date.now()), 200);
  },
);

login.openapi(
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
    return c.json(await passwordLogin(scopeOf(c, tid, wid), c.req.valid("json"), Date.now()), 200);
  },
);
