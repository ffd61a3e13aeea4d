/**
 * Helpers of the hosted flows' suites (test/signup.test.ts, test/recovery.test.ts, test/upgrade-signal.test.ts,
 * test/policy.test.ts): the development outbox, and an app (a public OpenID Connect client) whose authorization is
 * pending when the flow starts.
 */
import { env, SELF } from "cloudflare:test";
import { calculatePKCECodeChallenge, randomPKCECodeVerifier } from "openid-client";
import { CLIENT_DEFAULTS } from "../../src/domain/oidc";
import { insertClientFixture } from "./oidc-client";
import { json, ORIGIN, sys, uid } from "./api";

export type Message = { to: string; purpose: string; code: string };

/** The development outbox's messages (tenant default) to the address. */
export async function messagesTo(to: string): Promise<Message[]> {
  const { messages } = await json<{ messages: Message[] }>(await sys("GET", "/outbox"));
  return messages.filter((m) => m.to === to);
}

/** A trusted public client (PKCE, no secret) of workspace wid in tenant default, with one redirect URI; its id. */
export async function publicClient(wid: string, o: { redirect: string; scopes: string[]; name?: string }): Promise<string> {
  const clientId = uid("client");
  const now = Date.now();
  await insertClientFixture(env.DB, {
    ...CLIENT_DEFAULTS,
    tenantId: "default",
    workspaceId: wid,
    clientId,
    clientName: o.name ?? "App",
    secretHash: null,
    redirectUris: [o.redirect],
    postLogoutRedirectUris: [],
    tokenEndpointAuthMethod: "none",
    scopes: o.scopes,
    trusted: true,
    createdAt: now,
    updatedAt: now,
  });
  return clientId;
}

/** An authorization of the client (PKCE S256) with no session: the sign-in page it sends to, and its authz. */
export async function pendingAuthorization(
  wid: string,
  client: { clientId: string; redirect: string; scope: string; state?: string },
): Promise<{ login: URL; authz: string }> {
  const query = new URLSearchParams({
    client_id: client.clientId,
    redirect_uri: client.redirect,
    response_type: "code",
    scope: client.scope,
    state: client.state ?? "st",
    code_challenge: await calculatePKCECodeChallenge(randomPKCECodeVerifier()),
    code_challenge_method: "S256",
  });
  const res = await SELF.fetch(`${ORIGIN}/default/${wid}/oauth2/authorize?${query}`, {
    redirect: "manual",
    headers: { accept: "text/html" },
  });
  const login = new URL(res.headers.get("location")!, ORIGIN);
  return { login, authz: login.searchParams.get("authz")! };
}
