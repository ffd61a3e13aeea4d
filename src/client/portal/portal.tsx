/** The portal's root component: the user's state, the page's busy state, and the shared markup (view.tsx). */
import { browserSupportsWebAuthn } from "@simplewebauthn/browser";
import { flushSync, useEffect, useRef, useState } from "hono/jsx/dom";
import { BusyButton, BusyContext, useBusy, useBusyState } from "../lib/busy";
import { useFocusAfter } from "../lib/dom";
import { type PasskeyView, passkeyViews } from "../lib/passkey-view";
import { clearToken } from "../lib/session";
import { addPasskey, editName, type PortalCtx, removePasskey, renamePasskey } from "./actions";
import { PasskeyRow, type RowActions } from "./rows";
import { LeavingPage, type Me, type PortalPage, selfApi, signinUrl, workspacePath } from "./self";
import { StatusRegion, useStatus } from "../lib/status";
import { DeleteDialog, PortalView } from "../../pages/portal-view";

const SignOut = ({ page }: { page: PortalPage }) => {
  const busy = useBusy();
  const signOut = () => {
    clearToken(page.tid, page.wid);
    location.assign(`${workspacePath(page)}/login?signed_out=1`);
  };
  return (
    <button type="button" id="sign-out" class="secondary" disabled={busy.running !== null} onClick={signOut}>
      Sign out
    </button>
  );
};

/** Why "Add a passkey" is not offered, or null. */
function addUnavailable(page: PortalPage): string | null {
  if (!page.mode) return "Adding passkeys isn't turned on in this workspace.";
  if (!browserSupportsWebAuthn()) return "This browser can't create passkeys. Use another browser or device to add one.";
  return null;
}

/** The delete dialog: shows the passkey's name, opens, and resolves to true when the user confirms. */
function useDeleteDialog() {
  const dialog = useRef<HTMLDialogElement>(null);
  const [name, setName] = useState<string | undefined>(undefined);
  const confirm = (p: PasskeyView) =>
    new Promise<boolean>((resolve) => {
      const d = dialog.current;
      if (!d) return resolve(false);
      flushSync(() => setName(p.label));
      d.returnValue = "";
      d.addEventListener("close", () => resolve(d.returnValue === "delete"), { once: true });
      d.showModal();
    });
  return { element: <DeleteDialog name={name} dialogRef={dialog} />, confirm };
}

function usePortalState(page: PortalPage) {
  const [phase, setPhase] = useState<"loading" | "failed" | "ready">("loading");
  const [me, setMe] = useState<Me | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [invalid, setInvalid] = useState(false);
  const [signinAgain, setSigninAgain] = useState(false);
  const [status, say] = useStatus();
  const reloadMe = async () => {
    const next = await selfApi<Me>(page, "GET", "/me");
    setMe(next);
    return next;
  };
  const reload = async () => passkeyViews((await reloadMe()).credentials);
  useEffect(() => {
    reload().then(
      () => setPhase("ready"),
      (err: unknown) => err instanceof LeavingPage || setPhase("failed"),
    );
  }, []);
  return { phase, me, editing, setEditing, invalid, setInvalid, signinAgain, setSigninAgain, status, say, reload, reloadMe };
}

export function Portal({ page }: { page: PortalPage }) {
  const busy = useBusyState();
  const s = usePortalState(page);
  const focusAfter = useFocusAfter(busy.running === null);
  const dialog = useDeleteDialog();
  const passkeys = s.me ? passkeyViews(s.me.credentials) : [];
  const ctx: PortalCtx = { ...s, page, passkeys, focusAfter, confirmDelete: dialog.confirm };
  const actions: RowActions = {
    edit: (id) => editName(ctx, id, s.editing),
    rename: (p, value) => renamePasskey(ctx, p, value),
    remove: (p) => removePasskey(ctx, p),
  };
  const unavailable = addUnavailable(page);
  const rows = passkeys.map((p, index) => (
    <PasskeyRow
      key={p.id}
      p={p}
      index={index}
      only={passkeys.length === 1}
      editing={s.editing === p.id}
      invalid={s.invalid}
      actions={actions}
    />
  ));
  return (
    <BusyContext.Provider value={busy}>
      <PortalView
        signinAgainHref={signinUrl(page)}
        passkeyMode={!!page.mode}
        phase={s.phase}
        identifier={s.me ? (s.me.identifiers[0]?.identifier ?? "(no username)") : ""}
        signOut={<SignOut page={page} />}
        addPasskey={
          <BusyButton id="add-passkey" action="add" hidden={!!unavailable} onRun={() => addPasskey(ctx)}>
            Add a passkey
          </BusyButton>
        }
        addUnavailable={unavailable}
        status={<StatusRegion status={s.status} />}
        signinAgain={s.signinAgain}
        count={passkeys.length}
        rows={rows}
        dialog={dialog.element}
      />
    </BusyContext.Provider>
  );
}
