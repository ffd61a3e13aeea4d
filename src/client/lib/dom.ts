/** Small DOM helpers for the hosted pages' browser code. */
export const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
};

export const data = (name: string): string => document.body.dataset[name] ?? "";

/** Announces a message in the page's live region (role=status, aria-live=polite); errors also move focus there. */
export function announce(message: string, kind: "info" | "error" | "success" = "info", id = "status") {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = message;
  el.className = kind === "info" ? "" : kind;
  el.setAttribute("role", kind === "error" ? "alert" : "status");
}
