/**
 * Pool card "Passkey Settings": Relying Party ID, origins, user verification, attestation; a 422 shows at its field.
 * Under the origins, where browsers find the RP ID's related origins (WebAuthn L3 §5.11) and what the tenant's saved
 * pools publish there.
 */
import { useState } from "hono/jsx/dom";
import { isLocalhost, RELATED_LABELS_MAX, relatedOrigins } from "../../domain/relying-party";
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
        hint={`Web origins that may use these passkeys, one per line, e.g. https://app.example.com: the Relying Party ID or a subdomain of it. An origin on another domain, e.g. https://example.co.uk for RP ID example.com, is published at https://example.com/.well-known/webauthn so browsers let it use these passkeys; this server must answer for example.com. Such related origins need https and an RP ID other than localhost, on at most ${RELATED_LABELS_MAX} other domains. Empty: this server's origin (${location.origin}).`}
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

/**
 * The well-known URL of the saved RP ID and the related origins it lists: this tenant's saved pools with that RP ID
 * (pools of other tenants with the same RP ID add theirs; the server's answer may be cached for 5 minutes).
 */
function RelatedOrigins({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const rpId = pool.passkey_settings.relying_party_id;
  if (!rpId || isLocalhost(rpId)) {
    return (
      <p class="hint" id="related-origins">
        Origins on other domains need a Relying Party ID that is a domain name, not localhost.
      </p>
    );
  }
  const url = `https://${rpId}/.well-known/webauthn`;
  const pools = (ui.pools ?? [pool]).map((p) => (p.id === pool.id ? pool : p)).filter((p) => p.passkey_settings.relying_party_id === rpId);
  const listed = [...new Set(pools.flatMap((p) => relatedOrigins(p.passkey_settings.relying_party_origins, rpId)))];
  const others = pools.filter((p) => p.id !== pool.id).map((p) => p.name);
  return (
    <section class="field" id="related-origins" aria-labelledby="related-origins-title">
      <h4 id="related-origins-title">Related origins</h4>
      <p class="hint">
        Browsers read them from{" "}
        <a href={url} target="_blank" rel="noopener noreferrer">
          <code>{url}</code>
        </a>
        , which lists the origins on other domains of this pool
        {others.length > 0 ? ` and of the pools with the same RP ID (${others.join(", ")})` : ""}:
      </p>
      {listed.length > 0 ? (
        <ul class="plain" aria-label={`Origins listed at ${url}`}>
          {listed.map((o) => (
            <li key={o}>
              <code>{o}</code>
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">None: every origin is on {rpId}, so the list is empty.</p>
      )}
    </section>
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
  const [saved, setSaved] = useState(pool);
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
      setSaved(updated);
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
      <RelatedOrigins pool={saved} />
      <Choices form={form} err={err} set={set} />
      <div class="actions">
        <BusyButton type="submit" action="save-passkey" onRun={save}>
          Save passkey settings
        </BusyButton>
      </div>
    </form>
  );
}
