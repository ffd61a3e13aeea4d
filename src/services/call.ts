/**
 * One per-request value for services: the bindings, the tenant the request acts in, who acts (for the audit trail),
 * the request's time, and the service's own origin. Routes build it with `callOf` (src/http/context.ts); tests with
 * test/helpers/call.ts. Services know nothing of HTTP beyond this.
 */
import type { Env } from "../env";
import type { ServiceOrigin } from "./origin";

export interface Call {
  env: Env;
  tenantId: string;
  /** "system:<client>", "user:<id>" or "anonymous". */
  actor: string;
  /** The request's time (ms), read once, so tests can pin it. */
  now: number;
  /**
   * The service's own origin (issuer base, default RP ID and origin), computed on first use and memoised. It throws
   * 503 not_configured in production without a valid ISSUER_BASE_URL, so only what issues tokens or runs a ceremony
   * calls it, first thing, before any storage read.
   */
  origin(): ServiceOrigin;
  /**
   * Hands work the answer need not wait for (clean-up) to the runtime's `waitUntil`, off the critical path. The work
   * is already running; where there is no execution context (a test calling the app directly) it simply runs on.
   * Catch its failures before handing it over.
   */
  defer(work: Promise<unknown>): void;
}

/** A Call in one workspace: sign-in and enrollment links. */
export interface WorkspaceCall extends Call {
  workspaceId: string;
}

export const inWorkspace = (call: Call, workspaceId: string): WorkspaceCall => ({ ...call, workspaceId });
