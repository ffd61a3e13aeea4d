/**
 * Admin console shell: the administrator's token (workspace "admin"), hash routes, tabs, the live region.
 * #/methods · #/pools/{id} · #/pools/{id}/users · #/pools/{id}/users/{userID}
 */
import { errorText, systemApi, type Pool } from "./lib/admin-api";
import type { Console } from "./lib/admin-console";
import { fill, h } from "./lib/admin-h";
import { renderMethods } from "./lib/admin-methods";
import { renderPoolSettings } from "./lib/admin-pool";
import { renderUser, renderUsers } from "./lib/admin-users";
import { $, announce, data } from "./lib/dom";
import { clearToken, loadToken } from "./lib/session";

const ADMIN_WORKSPACE = "admin";
const tid = data("tid");
const enc = encodeURIComponent;
const signinUrl = () => {
  const back = `/${tid}/admin${location.hash}`;
  return `/${enc(tid)}/admin/login?return_to=${enc(back).replace(/%2F/g, "/")}`;
};

const session = loadToken(tid, ADMIN_WORKSPACE);
if (!session) {
  location.replace(signinUrl());
} else {
  start(session.token, session.claims.scope.split(" "));
}

function start(token: string, scopes: string[]) {
  const signOut = () => {
    clearToken(tid, ADMIN_WORKSPACE);
    location.assign(`/${enc(tid)}/admin/login`);
  };
  $("#signout").addEventListener("click", signOut);
  $("#session").hidden = false;
  $("#loading").hidden = true;
  $("#console").hidden = false;

  if (!scopes.includes("identity")) {
    fill(
      $("#main"),
      h(
        "div",
        { class: "card" },
        h("h1", {}, "Not an administrator"),
        h("p", {}, "You are signed in, but this account may not manage the tenant. Sign in with an administrator's passkey."),
        h("button", { type: "button", onclick: signOut }, "Sign out"),
      ),
    );
    return;
  }

  const api = systemApi(tid, token, () => {
    clearToken(tid, ADMIN_WORKSPACE);
    location.replace(signinUrl());
  });
  const ui: Console = {
    tid,
    api,
    say: (message, kind = "info") => announce(message, kind),
    go: (hash) => {
      if (location.hash === hash) void route();
      else location.hash = hash;
    },
  };

  // Who is signed in: the self-service profile of the admin workspace (best effort).
  void fetch(`/${enc(tid)}/${ADMIN_WORKSPACE}/identity/v2/self/me`, { headers: { authorization: `Bearer ${token}` } })
    .then((r) => (r.ok ? r.json() : null))
    .then((me: { identifiers?: { identifier: string }[] } | null) => {
      const name = me?.identifiers?.[0]?.identifier;
      if (name) $("#who").textContent = `Signed in as ${name}`;
    })
    .catch(() => undefined);

  let pools: Pool[] | null = null;
  const loadPools = async () => (pools ??= (await api<{ pools: Pool[] }>("GET", "/pools")).pools);

  const screens = { methods: $("#screen-methods"), pool: $("#screen-pool") };
  const tabs = [...document.querySelectorAll<HTMLAnchorElement>("nav.tabs [data-tab]")];
  const picker = $<HTMLSelectElement>("#pool-picker");
  let lastPath = "";

  picker.addEventListener("change", () => {
    const tail = location.hash.includes("/users") ? "/users" : "";
    ui.go(`#/pools/${enc(picker.value)}${tail}`);
  });

  function show(screen: keyof typeof screens, tab: string) {
    for (const [name, el] of Object.entries(screens)) el.hidden = name !== screen;
    for (const t of tabs) {
      if (t.dataset.tab === tab) t.setAttribute("aria-current", "page");
      else t.removeAttribute("aria-current");
    }
  }

  /** After navigation (not on first load), move focus to the new screen's heading for keyboard and screen-reader users. */
  function focusHeading(id: string, path: string) {
    if (lastPath && lastPath !== path) document.getElementById(id)?.focus();
    lastPath = path;
  }

  async function route() {
    const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
    const path = parts.join("/");
    // A message belongs to the screen it was said on.
    if (lastPath && lastPath !== path) ui.say("");
    try {
      if (parts[0] !== "pools") {
        show("methods", "methods");
        document.title = "Methods · Admin console · passkey-edge";
        focusHeading("methods-title", path || "methods");
        await renderMethods(ui, $("#workspaces"));
        return;
      }
      const all = await loadPools();
      const pool = all.find((p) => p.id === parts[1]) ?? all.find((p) => p.id === "default") ?? all[0];
      if (!pool) {
        show("pool", "pools");
        fill($("#pool-body"), h("p", { class: "card empty" }, "This tenant has no pools yet."));
        return;
      }
      if (parts[1] !== pool.id) {
        location.replace(`#/pools/${enc(pool.id)}`);
        return;
      }
      show("pool", "pools");
      fill(
        picker,
        all.map((p) => h("option", { value: p.id, selected: p.id === pool.id }, `${p.name} (${p.id})`)),
      );
      picker.value = pool.id;
      $("#crumb-pool").textContent = pool.name;
      const sub = parts[2] === "users" ? "users" : "signin";
      for (const a of document.querySelectorAll<HTMLAnchorElement>("[data-subtab]")) {
        a.href = `#/pools/${enc(pool.id)}${a.dataset.subtab === "users" ? "/users" : ""}`;
        if (a.dataset.subtab === sub) a.setAttribute("aria-current", "page");
        else a.removeAttribute("aria-current");
      }
      const title = $("#pool-title");
      const crumbTail = $("#crumb-tail");
      const body = $("#pool-body");
      const setTitle = (text: string, crumb: string) => {
        title.textContent = text;
        fill(crumbTail, h("span", { "aria-hidden": "true" }, " › "), crumb);
        document.title = `${text} · ${crumb} · Admin console · passkey-edge`;
      };

      if (sub === "signin") {
        setTitle(pool.name, "Sign-in and Sign-up");
        focusHeading("pool-title", path);
        renderPoolSettings(ui, pool, body, (updated) => {
          pools = all.map((p) => (p.id === updated.id ? updated : p));
        });
      } else if (parts[3]) {
        setTitle("User", "User");
        await renderUser(ui, pool, parts[3], body, (name) => setTitle(name, name));
        focusHeading("pool-title", path);
      } else {
        setTitle(pool.name, "Users");
        focusHeading("pool-title", path);
        await renderUsers(ui, pool, body);
      }
    } catch (e) {
      ui.say(errorText(e, "Loading"), "error");
    }
  }

  window.addEventListener("hashchange", () => void route());
  if (!location.hash) history.replaceState(null, "", "#/methods");
  void route();
}
