/** Pool card "Passkey Settings": Relying Party ID, origins, user verification, attestation; a 422 shows at its field. */
import { useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, fieldOf, type Pool } from "./api";
import { useConsole } from "./context";
import { described, Field, prevent, inputValue } from "./ui";

type Settings = Omit<Pool["passkey_settings"], "authenticator_policy">;
type Name = keyof Settings;
const IDS: Record<Name, string> = {
  relying_party_id: "rp-id",
  relying_party_origins: "rp-origins",
  user_verification: "uv",
  attestation: "attestation",
};
const FIELDS = Object.keys(IDS).map((k) => `passkey_settings.${k}`);

interface Form {
  relying_party_id: string;
  relying_party_origins: string;
  user_verification: string;
  attestation: string;
}
const formOf = (s: Settings): Form => ({
  relying_party_id: s.relying_party_id,
  relying_party_origins: s.relying_party_origins.join("\n"),
  user_verification: s.user_verification,
  attestation: s.attestation,
});
const linesOf = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

interface FieldsProps {
  form: Form;
  err: (k: Name) => string | undefined;
  set: (k: Name) => (e: Event) => void;
}

function RelyingParty({ form, err, set }: FieldsProps) {
  return (
    <>
      <Field
        id="rp-id"
        label="Relying Party ID"
        error={err("relying_party_id")}
        hint={`The domain passkeys are bound to, e.g. example.com: no scheme, port or path. Empty: this server's domain (${location.hostname}). Existing passkeys only work with the ID they were made for.`}
      >
        <input
          type="text"
          {...described("rp-id", true, err("relying_party_id"))}
          name="relying_party_id"
          autocomplete="off"
          spellcheck={false}
          placeholder={location.hostname}
          value={form.relying_party_id}
          onInput={set("relying_party_id")}
        />
      </Field>
      <Field
        id="rp-origins"
        label="Origins"
        error={err("relying_party_origins")}
        hint={`Web origins that may use these passkeys, one per line, e.g. https://app.example.com. Each is the Relying Party ID or a subdomain of it. Empty: this server's origin (${location.origin}).`}
      >
        <textarea
          {...described("rp-origins", true, err("relying_party_origins"))}
          name="relying_party_origins"
          rows={3}
          spellcheck={false}
          placeholder={location.origin}
          value={form.relying_party_origins}
          onInput={set("relying_party_origins")}
        />
      </Field>
    </>
  );
}

function Choices({ form, err, set }: FieldsProps) {
  return (
    <div class="grid2">
      <Field id="uv" label="User verification" error={err("user_verification")}>
        <select
          {...described("uv", false, err("user_verification"))}
          name="user_verification"
          value={form.user_verification}
          onChange={set("user_verification")}
        >
          <option value="required">Required: fingerprint, face or PIN every time</option>
          <option value="preferred">Preferred: when the device supports it</option>
          <option value="discouraged">Discouraged: presence only</option>
        </select>
      </Field>
      <Field id="attestation" label="Attestation" error={err("attestation")}>
        <select
          {...described("attestation", false, err("attestation"))}
          name="attestation"
          value={form.attestation}
          onChange={set("attestation")}
        >
          <option value="none">None (recommended)</option>
          <option value="direct">Direct: ask for the authenticator's attestation</option>
        </select>
      </Field>
    </div>
  );
}

export function PasskeyCard({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const busy = useBusy();
  const [form, setForm] = useState(() => formOf(pool.passkey_settings));
  const [errors, setErrors] = useState<Partial<Record<Name, string>>>({});
  const set = (k: Name) => (e: Event) => setForm({ ...form, [k]: inputValue(e) });
  const err = (k: Name) => errors[k];

  const save = async () => {
    setErrors({});
    try {
      const updated = await ui.api<Pool>("PUT", `/pools/${enc(pool.id)}`, {
        passkey_settings: {
          ...form,
          relying_party_id: form.relying_party_id.trim(),
          relying_party_origins: linesOf(form.relying_party_origins),
        },
      });
      setForm(formOf(updated.passkey_settings));
      ui.poolSaved(updated);
      ui.say("Passkey settings saved.", "success");
    } catch (e) {
      const at = fieldOf(e, FIELDS);
      if (at) {
        const name = at.key.replace("passkey_settings.", "") as Name;
        setErrors({ [name]: at.message });
        document.getElementById(IDS[name])?.focus();
      }
      ui.say(errorText(e, "Saving the passkey settings"), "error");
    }
  };

  return (
    <form
      class="card"
      id="passkey-card"
      aria-labelledby="passkey-title"
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === "save-passkey" ? "true" : undefined}
    >
      <h3 id="passkey-title" class="card-title">
        Passkey Settings
      </h3>
      <RelyingParty form={form} err={err} set={set} />
      <Choices form={form} err={err} set={set} />
      <div class="actions">
        <BusyButton type="submit" action="save-passkey" onRun={save}>
          Save passkey settings
        </BusyButton>
      </div>
    </form>
  );
}
