/** Who is calling: the verified claims of a bearer token. */
import type { HonoRequest } from "hono";
import type { Env } from "../env";
import type { AccessClaims } from "../crypto/jwt";

export interface Principal {
  tenantId: string;
  subject: string;
  scopes: Set<string>;
  claims: AccessClaims;
}

/** A user signed in to a workspace, as requireUser established it from the token and the user's row. */
export interface SignedInUser {
  tenantId: string;
  workspaceId: string;
  poolId: string;
  userId: string;
}

/** Hono's environment of the app: the bindings, and the principal once a bearer middleware has run. */
export type AppEnv = { Bindings: Env; Variables: { auth?: Principal } };

/** The environment after requireUser: the principal and the signed-in user are always there. */
export type UserEnv = { Bindings: Env; Variables: { auth: Principal; user: SignedInUser } };

/** What request-level helpers read of a Hono context, whatever its variables: the bindings and the request. */
export type RequestOf = { env: Env; req: HonoRequest };
