/**
 * Admin console screen "Users > pool > Sign-in and Sign-up": first- and second-factor methods (add, remove, make
 * preferred), "Passkey Settings" (Relying Party ID, origins, user verification, attestation) and "Pool Limits".
 * Each card saves with its own PUT /pools/{id}; a 422 is shown next to the field that details.field names.
 */
import { ApiFailure } from "./api";
import { errorText, type Mechanism, type Pool } from "./admin-api";
import { family, methodLabel, POOL_METHODS, type Console } from "./admin-console";
import { field, fieldError, fill, h } from "./admin-h";

type Factor = "first" | "second";

interface MethodsState {
  first: Mechanism[];
  preferred: Mechanism | "";
  second: Mechanism[];
  secondPreferred: Mechanism | "";
}

const stateOf = (p: Pool): MethodsState => ({
  first: [...p.authentication_mechanisms],
  preferred: p.preferred_authentication_mechanism,
  second: [...p.second_factor_authentication_mechanisms],
  secondPreferred: p.second_factor_preferred_authentication_mechanism,
});

/** The API's message for a field, without the field's own name in front: "relying_party_id must not …" → "Must not …". */
export function fieldMessage(message: string, field: string): string {
  const leaf = field.split(".").pop() ?? field;
  const rest = message.startsWith(`${leaf} `) ? message.slice(leaf.length + 1) : message;
  return `${rest.charAt(0).toUpperCase()}${rest.slice(1)}${/[.!?]$/.test(rest) ? "" : "."}`;
}

/** Shows a failed save: next to the field the API names when this card has it, always in the live region. */
function showError(ui: Console, e: unknown, doing: string, fields: Record<string, HTMLElement>): void {
  const target = e instanceof ApiFailure && e.field ? fields[e.field] : undefined;
  if (target && e instanceof ApiFailure && e.field) {
    fieldError(target, fieldMessage(e.message, e.field));
    target.focus();
  }
  ui.say(errorText(e, doing), "error");
}

function saveButton(label: string) {
  return h("button", { type: "submit" }, label);
}

async function busy(form: HTMLFormElement, button: HTMLButtonElement, work: () => Promise<void>) {
  button.disabled = true;
  form.setAttribute("aria-busy", "true");
  try {
    await work();
  } finally {
    button.disabled = false;
    form.removeAttribute("aria-busy");
  }
}

// ---------- Sign-in and Sign-up ----------

function methodsCard(ui: Console, pool: Pool, onSaved: (p: Pool) => void): HTMLFormElement {
  let state = stateOf(pool);
  let dirty = false;
  const lists: Record<Factor, HTMLDivElement> = { first: h("div", { id: "factor-first" }), second: h("div", { id: "factor-second" }) };
  const errorEl = h("p", { class: "field-error", id: "methods-error", hidden: true });
  const unsaved = h("span", { class: "hint", hidden: true }, "Unsaved changes");
  const save = saveButton("Save sign-in methods");

  const listOf = (f: Factor) => (f === "first" ? state.first : state.second);
  const preferredOf = (f: Factor) => (f === "first" ? state.preferred : state.secondPreferred);
  const setPreferred = (f: Factor, m: Mechanism | "") => {
    if (f === "first") state.preferred = m;
    else state.secondPreferred = m;
  };
  const factorName = (f: Factor) => (f === "first" ? "first factor" : "second factor");

  const change = (fn: () => void, message: string) => {
    fn();
    dirty = true;
    errorEl.hidden = true;
    render();
    ui.say(`${message} Save to apply.`);
  };

  const renderFactor = (f: Factor) => {
    const list = listOf(f);
    const used = new Set([...state.first, ...state.second].map(family));
    const available = POOL_METHODS.filter((m) => !used.has(family(m)));
    const select = h(
      "select",
      { id: `add-${f}`, disabled: available.length === 0 },
      available.length
        ? available.map((m) => h("option", { value: m }, methodLabel(m)))
        : h("option", { value: "" }, "Every method is in use"),
    );
    const items = list.map((m) => {
      const preferred = preferredOf(f) === m;
      return h(
        "li",
        {},
        h("span", { class: "method" }, methodLabel(m)),
        preferred
          ? h("span", { class: "badge preferred" }, "Preferred")
          : h(
              "button",
              {
                type: "button",
                class: "link",
                "aria-label": `Make ${methodLabel(m)} the preferred ${factorName(f)}`,
                onclick: () => change(() => setPreferred(f, m), `${methodLabel(m)} is now the preferred ${factorName(f)}.`),
              },
              "Make preferred",
            ),
        h(
          "button",
          {
            type: "button",
            class: "secondary small",
            "aria-label": `Remove ${methodLabel(m)} from the ${factorName(f)}`,
            onclick: () =>
              change(
                () => {
                  const next = list.filter((x) => x !== m);
                  if (f === "first") state.first = next;
                  else state.second = next;
                  if (preferredOf(f) === m) setPreferred(f, next[0] ?? "");
                },
                `${methodLabel(m)} removed from the ${factorName(f)}.`,
              ),
          },
          "Remove",
        ),
      );
    });
    fill(
      lists[f],
      h("h4", { id: `factor-${f}-title` }, f === "first" ? "First factor" : "Second factor"),
      h(
        "p",
        { class: "hint" },
        f === "first"
          ? "How users of this pool sign in. The preferred method is offered first."
          : "Asked for after the first factor. Leave empty for single-factor sign-in.",
      ),
      items.length
        ? h("ul", { class: "methods", "aria-labelledby": `factor-${f}-title` }, items)
        : h("p", { class: "empty" }, f === "first" ? "No method: nobody can sign in." : "No second factor."),
      h(
        "div",
        { class: "add-method" },
        h("label", { for: select.id }, `Add a ${factorName(f)} method`),
        h(
          "div",
          { class: "row" },
          select,
          h(
            "button",
            {
              type: "button",
              class: "secondary",
              disabled: available.length === 0,
              onclick: () => {
                const m = select.value as Mechanism;
                if (!m) return;
                change(
                  () => {
                    if (f === "first") state.first = [...state.first, m];
                    else state.second = [...state.second, m];
                    if (!preferredOf(f)) setPreferred(f, m);
                  },
                  `${methodLabel(m)} added to the ${factorName(f)}.`,
                );
                document.getElementById(`add-${f}`)?.focus();
              },
            },
            "Add",
          ),
        ),
      ),
    );
  };

  const render = () => {
    renderFactor("first");
    renderFactor("second");
    unsaved.hidden = !dirty;
  };

  const form = h(
    "form",
    { class: "card", id: "signin-card", "aria-labelledby": "signin-title", novalidate: true },
    h("h3", { id: "signin-title", class: "card-title" }, "Sign-in and Sign-up"),
    h("div", { class: "factors" }, lists.first, lists.second),
    errorEl,
    h("div", { class: "actions" }, save, unsaved),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    void busy(form, save, async () => {
      try {
        const updated = await ui.api<Pool>("PUT", `/pools/${encodeURIComponent(pool.id)}`, {
          authentication_mechanisms: state.first,
          preferred_authentication_mechanism: state.preferred,
          second_factor_authentication_mechanisms: state.second,
          second_factor_preferred_authentication_mechanism: state.secondPreferred,
        });
        state = stateOf(updated);
        dirty = false;
        render();
        onSaved(updated);
        ui.say("Sign-in methods saved.", "success");
      } catch (e) {
        errorEl.textContent = e instanceof ApiFailure ? fieldMessage(e.message, e.field ?? "") : "Saving failed.";
        errorEl.hidden = false;
        ui.say(errorText(e, "Saving the sign-in methods"), "error");
      }
    });
  });
  render();
  return form;
}

// ---------- Passkey Settings ----------

function passkeyCard(ui: Console, pool: Pool, onSaved: (p: Pool) => void): HTMLFormElement {
  const s = pool.passkey_settings;
  const rpId = h("input", {
    type: "text",
    id: "rp-id",
    name: "relying_party_id",
    autocomplete: "off",
    spellcheck: "false",
    placeholder: location.hostname,
  });
  rpId.value = s.relying_party_id;
  const origins = h("textarea", {
    id: "rp-origins",
    name: "relying_party_origins",
    rows: 3,
    spellcheck: "false",
    placeholder: location.origin,
  });
  origins.value = s.relying_party_origins.join("\n");
  const uv = h(
    "select",
    { id: "uv", name: "user_verification" },
    h("option", { value: "required" }, "Required: fingerprint, face or PIN every time"),
    h("option", { value: "preferred" }, "Preferred: when the device supports it"),
    h("option", { value: "discouraged" }, "Discouraged: presence only"),
  );
  uv.value = s.user_verification;
  const attestation = h(
    "select",
    { id: "attestation", name: "attestation" },
    h("option", { value: "none" }, "None (recommended)"),
    h("option", { value: "direct" }, "Direct: ask for the authenticator's attestation"),
  );
  attestation.value = s.attestation;
  const save = saveButton("Save passkey settings");
  const fields: Record<string, HTMLElement> = {
    "passkey_settings.relying_party_id": rpId,
    "passkey_settings.relying_party_origins": origins,
    "passkey_settings.user_verification": uv,
    "passkey_settings.attestation": attestation,
  };

  const form = h(
    "form",
    { class: "card", id: "passkey-card", "aria-labelledby": "passkey-title", novalidate: true },
    h("h3", { id: "passkey-title", class: "card-title" }, "Passkey Settings"),
    field(
      "Relying Party ID",
      rpId,
      `The domain passkeys are bound to, e.g. example.com: no scheme, port or path. Empty: this server's domain (${location.hostname}). Existing passkeys only work with the ID they were made for.`,
    ),
    field(
      "Origins",
      origins,
      `Web origins that may use these passkeys, one per line, e.g. https://app.example.com. Each is the Relying Party ID or a subdomain of it. Empty: this server's origin (${location.origin}).`,
    ),
    h("div", { class: "grid2" }, field("User verification", uv), field("Attestation", attestation)),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const el of Object.values(fields)) fieldError(el, null);
    void busy(form, save, async () => {
      try {
        const updated = await ui.api<Pool>("PUT", `/pools/${encodeURIComponent(pool.id)}`, {
          passkey_settings: {
            relying_party_id: rpId.value.trim(),
            relying_party_origins: origins.value
              .split("\n")
              .map((l) => l.trim())
              .filter(Boolean),
            user_verification: uv.value,
            attestation: attestation.value,
          },
        });
        rpId.value = updated.passkey_settings.relying_party_id;
        origins.value = updated.passkey_settings.relying_party_origins.join("\n");
        onSaved(updated);
        ui.say("Passkey settings saved.", "success");
      } catch (e) {
        showError(ui, e, "Saving the passkey settings", fields);
      }
    });
  });
  return form;
}

// ---------- Pool Limits ----------

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

function limitsCard(ui: Console, pool: Pool, onSaved: (p: Pool) => void): HTMLFormElement {
  const inputs = LIMIT_FIELDS.map((f) => {
    const el = h("input", { type: "number", id: f.id, name: f.name, min: f.min, max: f.max, step: 1, inputmode: "numeric" });
    el.value = String(pool.limits[f.name]);
    return { f, el };
  });
  const save = saveButton("Save limits");
  const fields: Record<string, HTMLElement> = Object.fromEntries(inputs.map(({ f, el }) => [`limits.${f.name}`, el]));
  const grid = (names: LimitName[]) =>
    h("div", { class: "grid2" }, ...inputs.filter(({ f }) => names.includes(f.name)).map(({ f, el }) => field(f.label, el, f.hint)));

  const form = h(
    "form",
    { class: "card", id: "limits-card", "aria-labelledby": "limits-title", novalidate: true },
    h("h3", { id: "limits-title", class: "card-title" }, "Pool Limits"),
    grid(["webauthn_credentials_capacity", "max_credentials"]),
    h("h4", { class: "card-subtitle" }, "Abuse limits"),
    grid(["password_failures", "otp_requests_per_hour", "otp_failures_per_day"]),
    h("div", { class: "actions" }, save),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    for (const el of Object.values(fields)) fieldError(el, null);
    const values: Partial<Record<LimitName, number>> = {};
    for (const { f, el } of inputs) {
      const v = Number(el.value);
      if (!Number.isInteger(v) || el.value.trim() === "") {
        fieldError(el, "Enter a whole number.");
        el.focus();
        ui.say("Saving the limits failed: enter whole numbers.", "error");
        return;
      }
      values[f.name] = v;
    }
    void busy(form, save, async () => {
      try {
        const updated = await ui.api<Pool>("PUT", `/pools/${encodeURIComponent(pool.id)}`, { limits: values });
        onSaved(updated);
        const l = updated.limits;
        ui.say(
          `Limits saved: ${l.webauthn_credentials_capacity} passkeys, ${l.max_credentials} credentials per user; ` +
            `${l.password_failures} wrong passwords per 15 minutes, ${l.otp_requests_per_hour} codes per hour, ${l.otp_failures_per_day} wrong codes per day.`,
          "success",
        );
      } catch (e) {
        showError(ui, e, "Saving the limits", fields);
      }
    });
  });
  return form;
}

export function renderPoolSettings(ui: Console, pool: Pool, container: HTMLElement, onSaved: (p: Pool) => void): void {
  fill(
    container,
    pool.description ? h("p", { class: "hint intro" }, pool.description) : null,
    methodsCard(ui, pool, onSaved),
    passkeyCard(ui, pool, onSaved),
    limitsCard(ui, pool, onSaved),
  );
}
