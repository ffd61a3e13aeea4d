/** Small DOM helpers for the hosted pages' browser code. */
import { useLayoutEffect, useRef } from "hono/jsx/dom";

export const $ = <T extends HTMLElement = HTMLElement>(sel: string, root: ParentNode = document): T => {
  const el = root.querySelector<T>(sel);
  if (!el) throw new Error(`missing element ${sel}`);
  return el;
};

export const data = (name: string): string => document.body.dataset[name] ?? "";

/**
 * Focus requests of a component's actions: `focusAfter(selector)` focuses the element once the page is idle (no busy
 * action: a disabled button cannot take focus) after the next render, and selects a text field's content.
 */
export function useFocusAfter(idle: boolean) {
  const pending = useRef<string | null>(null);
  useLayoutEffect(() => {
    if (!idle || !pending.current) return;
    const el = document.querySelector<HTMLElement>(pending.current);
    el?.focus();
    if (el instanceof HTMLInputElement && el.type === "text") el.select();
    pending.current = null;
  });
  return (selector: string) => {
    pending.current = selector;
  };
}
