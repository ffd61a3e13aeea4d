/** Pool card "Pool Limits": passkey capacity, maximum credentials and the pool's abuse limits; a 422 shows at its field. */
import { useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, fieldOf, type Pool } from "./api";
import { useConsole } from "./context";
import { described, Field, prevent, inputValue } from "./ui";

type LimitName = keyof Pool["limits"];

/** The pool's limits as the card shows them: API field, input id, label, range and hint (ranges as the API checks them). */
const LIMIT_FIELDS: { name: LimitName; id: string; label: string; min: number; max: number; hint: string }[] = [
  {
    name: "webauthn_credentials_capacity",
    id: "capacity",
    label: "Passkey capacity per user",
    min: 1,
    max: 100,
    hint: "1 to 100, at most the maximum credentials. A user at capacity must delete a passkey before adding one.",
  },
  {
    name: "max_credentials",
    id: "max-credentials",
    label: "Maximum credentials per user",
    min: 1,
    max: 1000,
    hint: "1 to 1000: passkeys and password together.",
  },
  {
    name: "password_failures",
    id: "password-failures",
    label: "Wrong passwords per 15 minutes",
    min: 1,
    max: 100,
    hint: "1 to 100 (default 5) per identifier; then password sign-in for it is refused until the 15 minutes pass. A workspace applies the strictest value of its pools. Passkeys still work.",
  },
  {
    name: "otp_requests_per_hour",
    id: "otp-requests",
    label: "Code requests per hour",
    min: 1,
    max: 100,
    hint: "1 to 100 (default 5) one-time codes per user per hour.",
  },
  {
    name: "otp_failures_per_day",
    id: "otp-failures",
    label: "Wrong codes per day",
    min: 1,
    max: 1000,
    hint: "1 to 1000 (default 10) per user per 24 hours; then every code for the user is refused. Each code also dies after 5 wrong codes.",
  },
];
const FIELDS = LIMIT_FIELDS.map((f) => `limits.${f.name}`);
const PASSKEY_LIMITS: LimitName[] = ["webauthn_credentials_capacity", "max_credentials"];

type Values = Record<LimitName, string>;
const valuesOf = (p: Pool) => Object.fromEntries(LIMIT_FIELDS.map((f) => [f.name, String(p.limits[f.name])])) as Values;
const idOf = (name: LimitName) => LIMIT_FIELDS.find((f) => f.name === name)?.id ?? name;

function savedText(l: Pool["limits"]): string {
  return (
    `Limits saved: ${l.webauthn_credentials_capacity} passkeys, ${l.max_credentials} credentials per user; ` +
    `${l.password_failures} wrong passwords per 15 minutes, ${l.otp_requests_per_hour} codes per hour, ${l.otp_failures_per_day} wrong codes per day.`
  );
}

export function LimitsCard({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const busy = useBusy();
  const [values, setValues] = useState(() => valuesOf(pool));
  const [errors, setErrors] = useState<Partial<Record<LimitName, string>>>({});
  const fail = (name: LimitName, message: string) => {
    setErrors({ [name]: message });
    document.getElementById(idOf(name))?.focus();
  };

  const save = async () => {
    setErrors({});
    const bad = LIMIT_FIELDS.find((f) => values[f.name].trim() === "" || !Number.isInteger(Number(values[f.name])));
    if (bad) {
      fail(bad.name, "Enter a whole number.");
      ui.say("Saving the limits failed: enter whole numbers.", "error");
      return;
    }
    try {
      const limits = Object.fromEntries(LIMIT_FIELDS.map((f) => [f.name, Number(values[f.name])]));
      const updated = await ui.api<Pool>("PUT", `/pools/${enc(pool.id)}`, { limits });
      ui.poolSaved(updated);
      ui.say(savedText(updated.limits), "success");
    } catch (e) {
      const at = fieldOf(e, FIELDS);
      if (at) fail(at.key.replace("limits.", "") as LimitName, at.message);
      ui.say(errorText(e, "Saving the limits"), "error");
    }
  };

  const grid = (passkeys: boolean) => (
    <div class="grid2">
      {LIMIT_FIELDS.filter((f) => PASSKEY_LIMITS.includes(f.name) === passkeys).map((f) => (
        <Field key={f.id} id={f.id} label={f.label} hint={f.hint} error={errors[f.name]}>
          <input
            type="number"
            {...described(f.id, true, errors[f.name])}
            name={f.name}
            min={f.min}
            max={f.max}
            step={1}
            inputmode="numeric"
            value={values[f.name]}
            onInput={(e) => setValues({ ...values, [f.name]: inputValue(e) })}
          />
        </Field>
      ))}
    </div>
  );
  return (
    <form
      class="card"
      id="limits-card"
      aria-labelledby="limits-title"
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === "save-limits" ? "true" : undefined}
    >
      <h3 id="limits-title" class="card-title">
        Pool Limits
      </h3>
      {grid(true)}
      <h4 class="card-subtitle">Abuse limits</h4>
      {grid(false)}
      <div class="actions">
        <BusyButton type="submit" action="save-limits" onRun={save}>
          Save limits
        </BusyButton>
      </div>
    </form>
  );
}
