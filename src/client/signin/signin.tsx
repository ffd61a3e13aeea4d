/** The sign-in page's root component: the step, the busy state, the live region; the ceremonies live in ceremonies.ts. */
import { browserSupportsWebAuthn } from "@simplewebauthn/browser";
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { BusyButton, BusyContext, type Busy, useBusyState } from "../lib/busy";
import { useFocusAfter } from "../lib/dom";
import { StatusRegion, useStatus } from "../lib/status";
import { SigninCeremonies, type SigninPage, type SigninUi } from "./ceremonies";
import { usePasskeyOffer } from "./upgrade";
import { type ButtonAction, type ButtonSpec, SigninView } from "../../pages/signin-view";

export interface SigninProps {
  page: SigninPage;
  /** What the user typed before the browser code ran (the server's fields are replaced). */
  values: { identifier?: string; password?: string };
  signedOut: boolean;
}

/** The controller lives as long as the page; `ui` reaches the latest state setters and busy state through a ref. */
function useCeremonies(page: SigninPage, busy: Busy, ui: Omit<SigninUi, "run">) {
  const latest = useRef({ busy, ui });
  latest.current = { busy, ui };
  const ceremonies = useRef<SigninCeremonies | null>(null);
  ceremonies.current ??= new SigninCeremonies(page, {
    say: (m, k) => latest.current.ui.say(m, k),
    run: (action, fn) => latest.current.busy.run(action, fn),
    setSecondStep: (on) => latest.current.ui.setSecondStep(on),
    setInvalid: (field) => latest.current.ui.setInvalid(field),
    focusAfter: (selector) => latest.current.ui.focusAfter(selector),
    leave: () => latest.current.ui.leave(),
    offerPasskey: () => latest.current.ui.offerPasskey(),
  });
  return ceremonies.current;
}

export function Signin({ page, values, signedOut }: SigninProps) {
  const busy = useBusyState();
  const [status, say] = useStatus();
  const [secondStep, setSecondStep] = useState(false);
  const [invalid, setInvalid] = useState<"identifier" | "password" | null>(null);
  const [leaving, setLeaving] = useState(false);
  const focusAfter = useFocusAfter(busy.running === null);
  const noPasskeys = !!page.cfg.mode && !browserSupportsWebAuthn();
  const upgrade = usePasskeyOffer();
  const c = useCeremonies(page, busy, {
    say,
    setSecondStep,
    setInvalid,
    focusAfter,
    leave: () => setLeaving(true),
    offerPasskey: upgrade.offer,
  });
  useEffect(() => {
    if (signedOut) say("You're signed out.", "success");
    if (!noPasskeys) void c.armAutofill();
  }, []);
  const run: Record<ButtonAction, () => Promise<void>> = {
    passkey: () => c.oneTap(),
    "submit-passkey": () => c.submit("passkey"),
    "submit-password": () => c.submit("password"),
    "second-factor": () => c.secondFactor(),
    "start-over": async () => c.startOver(),
  };
  const button = (b: ButtonSpec) => (
    <BusyButton
      type={b.type}
      id={b.id}
      name={b.type === "submit" ? "method" : undefined}
      value={b.value}
      class={b.class}
      aria-describedby={b.describedBy}
      hidden={b.hidden}
      action={b.action}
      locked={leaving}
      onRun={run[b.action]}
    >
      {b.label}
    </BusyButton>
  );
  return (
    <BusyContext.Provider value={busy}>
      <SigninView
        cfg={page.cfg}
        button={button}
        noPasskeys={noPasskeys}
        secondStep={secondStep}
        signedIn={upgrade.offering}
        invalid={invalid}
        values={values}
        status={
          <>
            {upgrade.node}
            <StatusRegion status={status} />
          </>
        }
        onSubmit={(e) => e.preventDefault()}
      />
    </BusyContext.Provider>
  );
}
