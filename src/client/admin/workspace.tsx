/** One workspace on the Methods screen: passkey on or off, Smart or Classic mode, other methods; delete. */
import { useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, type Mechanism, type PasskeyMode, type Workspace, type WorkspaceUpdate } from "./api";
import { ADMIN_WORKSPACE, useConsole } from "./context";
import { checkedOf, DeleteButton, prevent } from "./ui";

const MODES: { value: PasskeyMode; label: string; hint: string }[] = [
  {
    value: "smart",
    label: "Smart",
    hint: "People choose their passkey from the browser's list; no username to type. Needs discoverable passkeys.",
  },
  { value: "classic", label: "Classic", hint: "People enter their username first, then use their passkey. Works with every passkey." },
];
const OTHERS: { value: Mechanism; label: string; hint: string }[] = [
  { value: "password", label: "Password", hint: "Identifier and password (users need a password credential)." },
  { value: "email_otp", label: "Email one-time code", hint: "A code sent to the user's verified email address." },
];

const REENROLL = "Users whose passkeys cannot serve the new mode must re-enroll.";
const modeName = (m: PasskeyMode) => (m === "smart" ? "Smart" : "Classic");

function modeWarning(workspaceId: string, saved: PasskeyMode | null, enabled: boolean, mode: PasskeyMode): string {
  if (!enabled && workspaceId === ADMIN_WORKSPACE)
    return "Administrators sign in to this console with passkeys: without them, nobody can sign in here.";
  if (!enabled) return saved ? "Passkey sign-in will be off: people who only have passkeys cannot sign in to this workspace." : "";
  if (!saved || saved === mode) return `Changing the mode later affects existing users. ${REENROLL}`;
  return mode === "smart"
    ? `Switching to Smart: passkeys that are not discoverable cannot serve Smart sign-in. ${REENROLL}`
    : `Switching to Classic: people will type their username before using their passkey. ${REENROLL}`;
}

interface Form {
  enabled: boolean;
  mode: PasskeyMode;
  others: Mechanism[];
}
const formOf = (w: Workspace): Form => ({
  enabled: w.passkey_mode !== null,
  mode: w.passkey_mode ?? "smart",
  others: OTHERS.map((o) => o.value).filter((m) => w.authentication_mechanisms.includes(m)),
});

function PasskeyFieldset({ ws, form, set }: { ws: Workspace; form: Form; set: (f: Form) => void }) {
  const id = ws.id;
  const warning = modeWarning(id, ws.passkey_mode, form.enabled, form.mode);
  const changing = form.enabled
    ? ws.passkey_mode !== null && ws.passkey_mode !== form.mode
    : ws.passkey_mode !== null || id === ADMIN_WORKSPACE;
  return (
    <fieldset>
      <legend>Passkey</legend>
      <div class="check">
        <input
          type="checkbox"
          id={`ws-${id}-passkey`}
          name="passkey"
          checked={form.enabled}
          onChange={(e) => set({ ...form, enabled: checkedOf(e) })}
        />
        <label for={`ws-${id}-passkey`}>Offer passkey sign-in</label>
      </div>
      <fieldset class="choices">
        <legend class="sub">Mode</legend>
        {MODES.map((m) => (
          <div class="choice" key={m.value}>
            <input
              type="radio"
              id={`ws-${id}-mode-${m.value}`}
              name={`ws-${id}-mode`}
              value={m.value}
              aria-describedby={`ws-${id}-mode-${m.value}-hint`}
              checked={form.mode === m.value}
              disabled={!form.enabled}
              onChange={() => set({ ...form, mode: m.value })}
            />
            <label for={`ws-${id}-mode-${m.value}`}>{m.label}</label>
            <p class="hint" id={`ws-${id}-mode-${m.value}-hint`}>
              {m.hint}
            </p>
          </div>
        ))}
      </fieldset>
      {/* Polite live region: picking another mode announces what the switch means for existing users. */}
      <p class={changing ? "warning" : "warning quiet"} id={`ws-${id}-warning`} aria-live="polite" hidden={!warning}>
        {warning}
      </p>
    </fieldset>
  );
}

function OthersFieldset({ id, form, set }: { id: string; form: Form; set: (f: Form) => void }) {
  const toggle = (m: Mechanism, on: boolean) =>
    set({ ...form, others: OTHERS.map((o) => o.value).filter((x) => (x === m ? on : form.others.includes(x))) });
  return (
    <fieldset>
      <legend>Other methods</legend>
      {OTHERS.map((o) => (
        <div class="choice" key={o.value}>
          <input
            type="checkbox"
            id={`ws-${id}-${o.value}`}
            value={o.value}
            aria-describedby={`ws-${id}-${o.value}-hint`}
            checked={form.others.includes(o.value)}
            onChange={(e) => toggle(o.value, checkedOf(e))}
          />
          <label for={`ws-${id}-${o.value}`}>{o.label}</label>
          <p class="hint" id={`ws-${id}-${o.value}-hint`}>
            {o.hint}
          </p>
        </div>
      ))}
    </fieldset>
  );
}

export function WorkspaceCard({ initial }: { initial: Workspace }) {
  const ui = useConsole();
  const busy = useBusy();
  const [ws, setWs] = useState(initial);
  const [form, setForm] = useState(() => formOf(initial));
  const [gone, setGone] = useState(false);
  const id = ws.id;
  const action = `save-ws-${id}`;

  const save = async () => {
    const mechanisms: Mechanism[] = form.enabled ? [form.mode === "smart" ? "usernameless_webauthn" : "webauthn"] : [];
    mechanisms.push(...form.others);
    try {
      const body: WorkspaceUpdate = { authentication_mechanisms: mechanisms };
      const updated = await ui.api<Workspace>("PUT", `/workspaces/${enc(id)}`, body);
      setWs(updated);
      setForm(formOf(updated));
      const parts = [
        updated.passkey_mode ? `${modeName(updated.passkey_mode)} passkeys` : "no passkeys",
        ...OTHERS.filter((o) => updated.authentication_mechanisms.includes(o.value)).map((o) => o.label.toLowerCase()),
      ];
      ui.say(`Saved “${updated.name}”: ${parts.join(", ")}.`, "success");
    } catch (e) {
      ui.say(errorText(e, `Saving “${ws.name}”`), "error");
    }
  };
  const remove = async () => {
    try {
      await ui.api("DELETE", `/workspaces/${enc(id)}`);
      setGone(true);
      ui.say(`Workspace “${ws.name}” deleted.`, "success");
      document.getElementById("methods-title")?.focus();
    } catch (e) {
      ui.say(errorText(e, `Deleting “${ws.name}”`), "error");
    }
  };
  if (gone) return null;

  return (
    <form
      class="card workspace"
      aria-labelledby={`ws-${id}-title`}
      data-workspace={id}
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === action ? "true" : undefined}
    >
      <div class="card-head">
        <h3 id={`ws-${id}-title`}>{ws.name}</h3>
        <span class="badge">workspace {id}</span>
        <span class="badge">{ws.passkey_mode ? `${modeName(ws.passkey_mode)} passkeys` : "No passkeys"}</span>
      </div>
      <div class="ws-body">
        <PasskeyFieldset ws={ws} form={form} set={setForm} />
        <OthersFieldset id={id} form={form} set={setForm} />
      </div>
      <div class="actions">
        <BusyButton type="submit" action={action} onRun={save}>
          Save
        </BusyButton>
        <a class="button secondary" href={`#/workspaces/${enc(id)}/applications`} aria-label={`Applications of ${ws.name}`}>
          Applications
        </a>
        <span class="hint">
          {ws.identity_pools.length ? `Signs in users of: ${ws.identity_pools.join(", ")}` : "No identity pool: nobody can sign in yet."}
        </span>
        {id === ADMIN_WORKSPACE ? null : (
          <span class="push-end">
            <DeleteButton
              what={`workspace ${ws.name}`}
              text="Delete this workspace? Its sign-in pages stop working at once; its pools and their users stay."
              yes="Delete workspace"
              action={`delete-ws-${id}`}
              onDelete={remove}
            />
          </span>
        )}
      </div>
    </form>
  );
}
