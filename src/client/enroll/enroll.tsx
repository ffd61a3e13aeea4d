/** The enrollment-link page's component: one-time code → creation options → passkey prompt → complete → "ready". */
import type { z } from "@hono/zod-openapi";
import { type RegistrationResponseJSON, startRegistration } from "@simplewebauthn/browser";
import { useEffect, useState } from "hono/jsx/dom";
import type { CreationOptions } from "../../api/webauthn";
import { ApiFailure, api } from "../lib/api";
import { BusyButton, BusyContext, useBusyState } from "../lib/busy";
import { useFocusAfter } from "../lib/dom";
import { passkeyMessage } from "../lib/passkey-errors";
import { type Say, StatusRegion, useStatus } from "../lib/status";
import { createLabel, EnrollView, type EnrollViewProps } from "../../pages/enroll-view";

export interface EnrollPage {
  tid: string;
  wid: string;
  userId: string;
}

const INVALID = "This code or link does not work: it may be wrong, used or expired. Ask your administrator for a new code.";
const UNREACHABLE = "The service is not reachable right now. Try again in a moment.";
const refused = (e: unknown) => e instanceof ApiFailure && e.status === 401;

function registrationMessage(err: unknown): string {
  const name = err instanceof Error ? err.name : "";
  if (name === "InvalidStateError") return "This device already has a passkey for this account. Sign in with it instead.";
  if (["NotAllowedError", "AbortError", "SecurityError", "NotSupportedError"].includes(name)) return passkeyMessage(err);
  return "We could not create a passkey. Try again.";
}

/** The enrollment; resolves to true when the passkey is registered, after saying what went wrong otherwise. */
async function enroll(page: EnrollPage, code: string, say: Say, setInvalid: (v: "true" | "false") => void): Promise<boolean> {
  const base = `/${encodeURIComponent(page.tid)}/${encodeURIComponent(page.wid)}/enroll/webauthn`;
  let options: z.infer<typeof CreationOptions>;
  try {
    options = await api("POST", `${base}/options`, { user_id: page.userId, code });
  } catch (e) {
    say(refused(e) ? INVALID : UNREACHABLE, "error");
    setInvalid(refused(e) ? "true" : "false");
    return false;
  }
  let credential: RegistrationResponseJSON;
  try {
    credential = await startRegistration({
      optionsJSON: options.publicKey as unknown as Parameters<typeof startRegistration>[0]["optionsJSON"],
    });
  } catch (e) {
    say(registrationMessage(e), "error"); // the code is still valid: options does not use it up
    return false;
  }
  try {
    await api("POST", `${base}/complete`, { user_id: page.userId, code, credential });
  } catch (e) {
    say(refused(e) ? INVALID : UNREACHABLE, "error");
    return false;
  }
  return true;
}

type Shell = Pick<EnrollViewProps, "workspaceName" | "isAdmin" | "signinUrl" | "code">;

export function Enroll({ page, shell }: { page: EnrollPage; shell: Shell }) {
  const busy = useBusyState();
  const [status, say] = useStatus();
  const [invalid, setInvalid] = useState<"true" | "false" | undefined>(undefined);
  const [done, setDone] = useState(false);
  const focusAfter = useFocusAfter(busy.running === null);
  const supported = typeof window.PublicKeyCredential === "function";
  useEffect(() => {
    if (!supported) say("This browser cannot create passkeys. Open the link in an up-to-date browser on your phone or computer.", "error");
  }, []);
  const create = async () => {
    const value = (document.getElementById("code") as HTMLInputElement | null)?.value.trim() ?? "";
    if (!/^[0-9]+$/.test(value)) {
      setInvalid("true");
      focusAfter("#code");
      return say("Enter the code from your enrollment message (digits only).", "error");
    }
    setInvalid(undefined);
    say("");
    if (!(await enroll(page, value, say, setInvalid))) return;
    setDone(true);
    say("");
    // Focus on the heading: screen readers read "Your passkey is ready", the sign-in link is the next stop.
    focusAfter("#done-title");
  };
  const running = busy.running === "create";
  return (
    <BusyContext.Provider value={busy}>
      <EnrollView
        {...shell}
        busy={running}
        done={done}
        invalid={invalid}
        status={<StatusRegion status={status} />}
        onSubmit={(e) => e.preventDefault()}
        button={
          <BusyButton type="submit" class="block" id="create" action="create" locked={!supported} onRun={create}>
            {createLabel(running)}
          </BusyButton>
        }
      />
    </BusyContext.Provider>
  );
}
