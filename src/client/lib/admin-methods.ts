/** Admin console screen "Authentication > Settings > Methods": per workspace, passkey on/off and mode, other methods. */
import { errorText, type Mechanism, type Workspace } from "./admin-api";
import type { Console } from "./admin-console";
import { fill, h } from "./admin-h";

type Mode = "smart" | "classic";

const MODES: { value: Mode; label: string; hint: string }[] = [
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

const ADMIN_WORKSPACE = "admin";
const REENROLL = "Users whose passkeys cannot serve the new mode must re-enroll.";

function modeWarning(workspaceId: string, saved: Mode | null, enabled: boolean, mode: Mode): string {
  if (!enabled && workspaceId === ADMIN_WORKSPACE)
    return "Administrators sign in to this console with passkeys: without them, nobody can sign in here.";
  if (!enabled) return saved ? "Passkey sign-in will be off: people who only have passkeys cannot sign in to this workspace." : "";
  if (!saved || saved === mode) return `Changing the mode later affects existing users. ${REENROLL}`;
  return mode === "smart"
    ? `Switching to Smart: passkeys that are not discoverable cannot serve Smart sign-in. ${REENROLL}`
    : `Switching to Classic: people will type their username before using their passkey. ${REENROLL}`;
}

function workspaceCard(ui: Console, initial: Workspace): HTMLFormElement {
  let ws = initial;
  const id = ws.id;
  const titleId = `ws-${id}-title`;
  const enable = h("input", { type: "checkbox", id: `ws-${id}-passkey`, name: "passkey" });
  const radios = MODES.map((m) =>
    h("input", {
      type: "radio",
      id: `ws-${id}-mode-${m.value}`,
      name: `ws-${id}-mode`,
      value: m.value,
      "aria-describedby": `ws-${id}-mode-${m.value}-hint`,
    }),
  );
  const others = OTHERS.map((o) =>
    h("input", { type: "checkbox", id: `ws-${id}-${o.value}`, value: o.value, "aria-describedby": `ws-${id}-${o.value}-hint` }),
  );
  // Polite live region: picking another mode announces what the switch means for existing users.
  const warning = h("p", { class: "warning", id: `ws-${id}-warning`, "aria-live": "polite" });
  const save = h("button", { type: "submit" }, "Save");
  const modeBadge = h("span", { class: "badge" });

  const selectedMode = (): Mode => (radios.find((r) => r.checked)?.value as Mode | undefined) ?? "smart";
  const sync = () => {
    for (const r of radios) r.disabled = !enable.checked;
    const text = modeWarning(ws.id, ws.passkey_mode, enable.checked, selectedMode());
    warning.textContent = text;
    warning.hidden = !text;
    const changing = enable.checked
      ? ws.passkey_mode !== null && ws.passkey_mode !== selectedMode()
      : ws.passkey_mode !== null || ws.id === ADMIN_WORKSPACE;
    warning.classList.toggle("quiet", !changing);
  };
  const load = (w: Workspace) => {
    ws = w;
    enable.checked = w.passkey_mode !== null;
    const mode = w.passkey_mode ?? "smart";
    for (const r of radios) r.checked = r.value === mode;
    for (const o of others) o.checked = w.authentication_mechanisms.includes(o.value as Mechanism);
    modeBadge.textContent = w.passkey_mode ? `${w.passkey_mode === "smart" ? "Smart" : "Classic"} passkeys` : "No passkeys";
    sync();
  };

  enable.addEventListener("change", sync);
  for (const r of radios) r.addEventListener("change", sync);

  const form = h(
    "form",
    { class: "card workspace", "aria-labelledby": titleId, "data-workspace": id, novalidate: true },
    h("div", { class: "card-head" }, h("h3", { id: titleId }, ws.name), h("span", { class: "badge" }, `workspace ${id}`), modeBadge),
    h(
      "div",
      { class: "ws-body" },
      h(
        "fieldset",
        {},
        h("legend", {}, "Passkey"),
        h("div", { class: "check" }, enable, h("label", { for: enable.id }, "Offer passkey sign-in")),
        h(
          "fieldset",
          { class: "choices" },
          h("legend", { class: "sub" }, "Mode"),
          MODES.map((m, i) =>
            h(
              "div",
              { class: "choice" },
              radios[i]!,
              h("label", { for: radios[i]!.id }, m.label),
              h("p", { class: "hint", id: `ws-${id}-mode-${m.value}-hint` }, m.hint),
            ),
          ),
        ),
        warning,
      ),
      h(
        "fieldset",
        {},
        h("legend", {}, "Other methods"),
        OTHERS.map((o, i) =>
          h(
            "div",
            { class: "choice" },
            others[i]!,
            h("label", { for: others[i]!.id }, o.label),
            h("p", { class: "hint", id: `ws-${id}-${o.value}-hint` }, o.hint),
          ),
        ),
      ),
    ),
    h(
      "div",
      { class: "actions" },
      save,
      h(
        "span",
        { class: "hint" },
        ws.identity_pools.length ? `Signs in users of: ${ws.identity_pools.join(", ")}` : "No identity pool: nobody can sign in yet.",
      ),
    ),
  );

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const mechanisms: Mechanism[] = [];
    if (enable.checked) mechanisms.push(selectedMode() === "smart" ? "usernameless_webauthn" : "webauthn");
    for (const o of others) if (o.checked) mechanisms.push(o.value as Mechanism);
    save.disabled = true;
    form.setAttribute("aria-busy", "true");
    try {
      const updated = await ui.api<Workspace>("PUT", `/workspaces/${encodeURIComponent(id)}`, { authentication_mechanisms: mechanisms });
      load(updated);
      const parts = [
        updated.passkey_mode ? `${updated.passkey_mode === "smart" ? "Smart" : "Classic"} passkeys` : "no passkeys",
        ...OTHERS.filter((o) => updated.authentication_mechanisms.includes(o.value)).map((o) => o.label.toLowerCase()),
      ];
      ui.say(`Saved “${updated.name}”: ${parts.join(", ")}.`, "success");
    } catch (e) {
      ui.say(errorText(e, `Saving “${ws.name}”`), "error");
    } finally {
      save.disabled = false;
      form.removeAttribute("aria-busy");
    }
  });

  load(ws);
  return form;
}

export async function renderMethods(ui: Console, container: HTMLElement): Promise<void> {
  fill(container, h("p", { class: "hint" }, "Loading workspaces…"));
  const { workspaces } = await ui.api<{ workspaces: Workspace[] }>("GET", "/workspaces");
  if (workspaces.length === 0) {
    fill(container, h("p", { class: "card hint" }, "This tenant has no workspace yet."));
    return;
  }
  fill(
    container,
    workspaces.map((w) => workspaceCard(ui, w)),
  );
}
