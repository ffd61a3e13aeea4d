/** A service Call for tests that drive services directly (pinned time, the test origin, the test Worker's bindings). */
import { env } from "cloudflare:test";
import type { Env } from "../../src/env";
import { type Call, inWorkspace, type WorkspaceCall } from "../../src/services/call";
import { ORIGIN } from "./api";

export interface TestCallOptions {
  tenantId?: string;
  /** The request's time (ms); default Date.now(). */
  now?: number;
  actor?: string;
  env?: Env;
}

export function testCall(o: TestCallOptions = {}): Call {
  const { hostname } = new URL(ORIGIN);
  return {
    env: o.env ?? env,
    tenantId: o.tenantId ?? "default",
    actor: o.actor ?? "test",
    now: o.now ?? Date.now(),
    origin: () => ({ origin: ORIGIN, hostname, issuerBase: ORIGIN }),
    defer: () => undefined, // the work is already running; the test awaits what it checks
  };
}

/** A Call in workspace `workspaceId` (sign-in, enrollment links). */
export const testWorkspaceCall = (workspaceId: string, o: TestCallOptions = {}): WorkspaceCall => inWorkspace(testCall(o), workspaceId);
