/**
 * Admin console screens "Users > pool" (the pool's users) and "Users > pool > user" (details, passkeys with rename and
 * delete, "Send enrollment code").
 */
import { ApiFailure } from "./api";
import { errorText, type Credential, type Pool, type User, type UserWithData, type Workspace } from "./admin-api";
import type { Console } from "./admin-console";
import { fieldError, fill, h, when } from "./admin-h";

const enc = encodeURIComponent;
const userPath = (pool: Pool, userId: string) => `/pools/${enc(pool.id)}/users/${enc(userId)}`;
export const userHash = (poolId: string, userId: string) => `#/pools/${enc(poolId)}/users/${enc(userId)}`;

/** The name an administrator knows the user by: its first identifier, else its id. */
const displayName = (u: User) => u.identifiers[0]?.identifier ?? u.id;

export async function renderUsers(ui: Console, pool: Pool, container: HTMLElement): Promise<void> {
  fill(container, h("p", { class: "hint" }, "Loading users…"));
  const { users } = await ui.api<{ users: User[] }>("GET", `/pools/${enc(pool.id)}/users?limit=200`);
  if (users.length === 0) {
    fill(
      container,
      h(
        "div",
        { class: "card" },
        h("p", { class: "empty" }, "No users in this pool yet. Create users with the system API (POST /pools/{id}/users)."),
      ),
    );
    return;
  }
  fill(
    container,
    h(
      "div",
      { class: "card" },
      h("h3", { class: "card-title", id: "users-title" }, "Users"),
      h(
        "p",
        { class: "hint" },
        users.length === 200 ? "The 200 newest users." : `${users.length} ${users.length === 1 ? "user" : "users"}, newest first.`,
      ),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { "aria-labelledby": "users-title" },
          h(
            "thead",
            {},
            h(
              "tr",
              {},
              h("th", { scope: "col" }, "User"),
              h("th", { scope: "col" }, "Verified address"),
              h("th", { scope: "col" }, "Status"),
              h("th", { scope: "col" }, "Created"),
            ),
          ),
          h(
            "tbody",
            {},
            users.map((u) =>
              h(
                "tr",
                {},
                h("td", {}, h("a", { href: userHash(pool.id, u.id) }, displayName(u))),
                h(
                  "td",
                  {},
                  u.verifiable_addresses
                    .filter((a) => a.verified)
                    .map((a) => a.address)
                    .join(", ") || h("span", { class: "muted" }, "None"),
                ),
                h("td", {}, h("span", { class: `badge status-${u.status}` }, u.status)),
                h("td", { class: "date" }, when(u.created_at)),
              ),
            ),
          ),
        ),
      ),
    ),
  );
}

// ---------- one user ----------

function authenticatorOf(c: Credential): string {
  const a = c.payload.authenticator;
  if (a?.name) return a.name;
  if (a?.attachment === "platform") return "This device's authenticator";
  if (a?.attachment === "cross-platform") return "Security key or phone";
  return "Unknown authenticator";
}

const kindOf = (c: Credential) => (c.payload.flags?.backupEligible ? "Synced" : "Device-bound");
const passkeyName = (c: Credential) => c.name ?? "Unnamed passkey";

function passkeyRow(
  ui: Console,
  pool: Pool,
  user: UserWithData,
  c: Credential,
  reload: (focus?: string) => Promise<void>,
): HTMLTableRowElement {
  const nameCell = h("td", {});
  const actions = h("td", { class: "actions-cell" });
  const base = `${userPath(pool, user.id)}/webauthn/${enc(c.id)}`;

  const showName = () =>
    fill(
      nameCell,
      h("span", { class: "passkey-name" }, passkeyName(c)),
      c.discoverable_id ? null : h("span", { class: "hint block" }, "Classic only (not discoverable)"),
    );

  const showActions = () =>
    fill(
      actions,
      h(
        "div",
        { class: "row" },
        h("button", { type: "button", class: "secondary small", "aria-label": `Rename ${passkeyName(c)}`, onclick: startRename }, "Rename"),
        h("button", { type: "button", class: "danger small", "aria-label": `Delete ${passkeyName(c)}`, onclick: confirmDelete }, "Delete"),
      ),
    );

  function startRename() {
    const input = h("input", { type: "text", id: `rename-${c.id}`, maxlength: 64, autocomplete: "off" });
    input.value = c.name ?? "";
    const error = h("p", { class: "field-error", id: `rename-${c.id}-error`, hidden: true });
    input.setAttribute("aria-describedby", error.id);
    const cancel = () => {
      showName();
      showActions();
      (actions.querySelector("button") as HTMLButtonElement | null)?.focus();
    };
    const form = h(
      "form",
      { class: "rename", novalidate: true },
      h("label", { for: input.id, class: "visually-hidden" }, `New name for ${passkeyName(c)}`),
      input,
      error,
      h(
        "div",
        { class: "row" },
        h("button", { type: "submit", class: "small" }, "Save name"),
        h("button", { type: "button", class: "secondary small", onclick: cancel }, "Cancel"),
      ),
    );
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      fieldError(input, null);
      try {
        await ui.api("PUT", `${base}/name`, { name: input.value });
        ui.say(`Passkey renamed to “${input.value.trim()}”.`, "success");
        await reload("passkeys-title");
      } catch (e) {
        fieldError(
          input,
          e instanceof ApiFailure && e.status === 400 ? "Use 1 to 64 characters, without control characters." : "Renaming failed.",
        );
        ui.say(errorText(e, "Renaming the passkey"), "error");
        input.focus();
      }
    });
    fill(nameCell, form);
    fill(actions);
    input.focus();
    input.select();
  }

  function confirmDelete() {
    const yes = h(
      "button",
      {
        type: "button",
        class: "danger small solid",
        onclick: async () => {
          yes.disabled = true;
          try {
            await ui.api("DELETE", base);
            ui.say(`Passkey “${passkeyName(c)}” deleted.`, "success");
            await reload("passkeys-title");
          } catch (e) {
            ui.say(errorText(e, "Deleting the passkey"), "error");
            yes.disabled = false;
          }
        },
      },
      "Delete passkey",
    );
    const no = h(
      "button",
      {
        type: "button",
        class: "secondary small",
        onclick: () => {
          showActions();
          (actions.querySelector(".danger") as HTMLButtonElement | null)?.focus();
        },
      },
      "Keep",
    );
    fill(
      actions,
      h(
        "div",
        { class: "confirm", role: "group", "aria-label": `Delete ${passkeyName(c)}?` },
        h(
          "p",
          { class: "confirm-text" },
          user.credentials.filter((x) => x.type === "webauthn").length === 1
            ? "Delete the user's last passkey? They will need a new enrollment code to sign in."
            : "Delete this passkey? It stops working at once.",
        ),
        h("div", { class: "row" }, yes, no),
      ),
    );
    yes.focus();
  }

  showName();
  showActions();
  return h(
    "tr",
    { "data-passkey": c.id },
    nameCell,
    h("td", {}, authenticatorOf(c)),
    h("td", {}, h("span", { class: `badge kind-${kindOf(c) === "Synced" ? "synced" : "device"}` }, kindOf(c))),
    h("td", { class: "date" }, when(c.created_at)),
    h("td", { class: "date" }, when(c.last_used_at)),
    actions,
  );
}

function enrollmentCard(ui: Console, pool: Pool, user: UserWithData, workspaces: Workspace[]): HTMLElement {
  const hasAddress = user.verifiable_addresses.some((a) => a.verified);
  const button = h("button", { type: "button", id: "send-code" }, "Send enrollment code");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await ui.api("POST", `/pools/${enc(pool.id)}/user/webauthn/add/request`, { userID: user.id });
      ui.say("If the user has a verified address, a code is on its way.", "success");
    } catch (e) {
      ui.say(errorText(e, "Sending the enrollment code"), "error");
    } finally {
      button.disabled = false;
    }
  });
  const links = workspaces.filter((w) => w.identity_pools.includes(pool.id) && w.passkey_mode);
  return h(
    "section",
    { class: "card", "aria-labelledby": "enroll-title" },
    h("h3", { class: "card-title", id: "enroll-title" }, "Enrollment"),
    h(
      "p",
      {},
      "Send the user a one-time code to create a passkey, e.g. a new user or one who lost their device. A new code replaces the previous one.",
    ),
    hasAddress ? null : h("p", { class: "warning" }, "This user has no verified address, so no code can be delivered."),
    h("div", { class: "actions" }, button),
    links.length
      ? h(
          "div",
          { class: "enroll-links" },
          h("p", { class: "hint" }, "The user enters the code at:"),
          h(
            "ul",
            { class: "plain" },
            links.map((w) => {
              const url = `${location.origin}/${enc(ui.tid)}/${enc(w.id)}/enroll?user=${enc(user.id)}`;
              return h("li", {}, h("code", {}, url), " ", h("span", { class: "hint" }, `(${w.name})`));
            }),
          ),
        )
      : h("p", { class: "hint" }, "No workspace with passkeys lists this pool, so the user has no enrollment page yet."),
  );
}

export async function renderUser(
  ui: Console,
  pool: Pool,
  userId: string,
  container: HTMLElement,
  setTitle: (t: string) => void,
): Promise<void> {
  fill(container, h("p", { class: "hint" }, "Loading the user…"));
  const [user, { workspaces }] = await Promise.all([
    ui.api<UserWithData>("GET", userPath(pool, userId)),
    ui.api<{ workspaces: Workspace[] }>("GET", "/workspaces"),
  ]);
  setTitle(displayName(user));

  const reload = async (focusId?: string) => {
    await renderUser(ui, pool, userId, container, setTitle);
    if (focusId) document.getElementById(focusId)?.focus();
  };
  const passkeys = user.credentials.filter((c) => c.type === "webauthn");
  const hasPassword = user.credentials.some((c) => c.type === "password");
  const verified = user.verifiable_addresses.filter((a) => a.verified);

  fill(
    container,
    h("p", {}, h("a", { href: `#/pools/${enc(pool.id)}/users`, class: "back" }, `← All users of ${pool.name}`)),
    h(
      "section",
      { class: "card", "aria-labelledby": "details-title" },
      h("h3", { class: "card-title", id: "details-title" }, "Details"),
      h(
        "dl",
        { class: "details" },
        h("dt", {}, "User ID"),
        h("dd", {}, h("code", {}, user.id)),
        h("dt", {}, "Identifiers"),
        h("dd", {}, user.identifiers.map((i) => `${i.identifier} (${i.type})`).join(", ") || "None"),
        h("dt", {}, "Verified addresses"),
        h("dd", {}, verified.map((a) => a.address).join(", ") || "None"),
        h("dt", {}, "Status"),
        h("dd", {}, h("span", { class: `badge status-${user.status}` }, user.status)),
        h("dt", {}, "Password"),
        h("dd", {}, hasPassword ? "Set" : "Not set"),
        h("dt", {}, "Created"),
        h("dd", {}, when(user.created_at)),
      ),
    ),
    h(
      "section",
      { class: "card", "aria-labelledby": "passkeys-title" },
      h("h3", { class: "card-title", id: "passkeys-title", tabindex: -1 }, `Passkeys (${passkeys.length})`),
      passkeys.length
        ? h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "passkeys", "aria-labelledby": "passkeys-title" },
              h(
                "thead",
                {},
                h(
                  "tr",
                  {},
                  ...["Name", "Authenticator", "Kind", "Created", "Last used"].map((t) => h("th", { scope: "col" }, t)),
                  h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, "Actions")),
                ),
              ),
              h(
                "tbody",
                {},
                passkeys.map((c) => passkeyRow(ui, pool, user, c, reload)),
              ),
            ),
          )
        : h("p", { class: "empty" }, "No passkeys yet. Send an enrollment code so the user can create one."),
    ),
    enrollmentCard(ui, pool, user, workspaces),
  );
}
