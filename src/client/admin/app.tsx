/**
 * Admin console shell: hash routes, tabs, the live region and the busy state every screen shares.
 * #/methods · #/workspaces/{id}/applications · #/pools/{id} · #/pools/{id}/users[?q=…&page=…] · #/pools/{id}/users/{userID}
 */
import { useEffect, useMemo, useRef, useState } from "hono/jsx/dom";
import { BusyContext, useBusyState } from "../lib/busy";
import { StatusRegion, useStatus } from "../lib/status";
import type { Pool, SystemApi } from "./api";
import { type Console, ConsoleContext, type Tone } from "./context";
import { ApplicationsScreen } from "./applications";
import { MethodsScreen } from "./methods";
import { PoolScreen } from "./pool";
import { parseHash } from "./route";

type Message = { text: string; tone: Tone };

/** Route state from the hash; a message said with go() is shown on the new screen, others end with their screen. */
function useRoute() {
  const [route, setRoute] = useState(() => parseHash(location.hash || "#/methods"));
  const [status, say] = useStatus();
  const pending = useRef<Message | null>(null);
  const current = useRef(route);
  useEffect(() => {
    const onHash = () => {
      const next = parseHash(location.hash);
      const changed = next.path !== current.current.path;
      current.current = next;
      setRoute(next);
      const message = pending.current;
      pending.current = null;
      if (message) say(message.text, message.tone);
      else if (changed) say("");
    };
    window.addEventListener("hashchange", onHash);
    return () => window.removeEventListener("hashchange", onHash);
  }, []);
  const go = (hash: string, text?: string, tone: Tone = "success") => {
    pending.current = text ? { text, tone } : null;
    if (location.hash === hash) {
      // Same address: reload the screen (a hashchange would not fire).
      const next = parseHash(hash);
      current.current = next;
      setRoute(next);
      say(pending.current?.text ?? "", pending.current?.tone);
      pending.current = null;
    } else location.hash = hash;
  };
  return { route, status, say, go };
}

/** After a navigation (not on first load), focus moves to the new screen's heading. */
function useHeadingFocus(path: string, headingId: string) {
  const last = useRef("");
  useEffect(() => {
    if (last.current && last.current !== path) document.getElementById(headingId)?.focus();
    last.current = path;
  }, [path]);
}

export function App({ tid, api }: { tid: string; api: SystemApi }) {
  const busy = useBusyState();
  const { route, status, say, go } = useRoute();
  const [pools, setPools] = useState<Pool[] | null>(null);
  const apps = route.parts[0] === "workspaces" && route.parts[2] === "applications" ? route.parts[1] : undefined;
  const screen = route.parts[0] === "pools" ? "pools" : "methods";
  useHeadingFocus(route.path || "methods", screen === "pools" ? "pool-title" : apps ? "apps-title" : "methods-title");

  const ui: Console = useMemo(
    () => ({
      tid,
      api,
      say,
      go,
      pools,
      reloadPools: async () => {
        const all = (await api<{ pools: Pool[] }>("GET", "/pools")).pools;
        setPools(all);
        return all;
      },
      poolSaved: (p) => setPools((all) => all?.map((x) => (x.id === p.id ? p : x)) ?? null),
    }),
    [pools],
  );

  return (
    <ConsoleContext.Provider value={ui}>
      <BusyContext.Provider value={busy}>
        <div class="console-head">
          <h1>Admin console</h1>
          <span class="badge">tenant {tid}</span>
        </div>
        <nav class="tabs" aria-label="Console sections">
          <a href="#/methods" data-tab="methods" aria-current={screen === "methods" ? "page" : undefined}>
            Authentication
          </a>
          <a href="#/pools" data-tab="pools" aria-current={screen === "pools" ? "page" : undefined}>
            Users
          </a>
        </nav>
        <StatusRegion status={status} />
        {apps ? (
          <ApplicationsScreen key={`a${route.n}`} wid={apps} />
        ) : screen === "methods" ? (
          <MethodsScreen key={`m${route.n}`} />
        ) : (
          <PoolScreen route={route} />
        )}
      </BusyContext.Provider>
    </ConsoleContext.Provider>
  );
}
