/**
 * Pool sub-screen "Users": the pool's users, newest first, 50 a page with Previous/Next and a search (any part of an
 * identifier); the page and the search are kept in the address (#/pools/{id}/users?q=…&page=…). "New user".
 */
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { formatDate } from "../lib/passkey-view";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, type Pool, type User } from "./api";
import { displayName, useConsole, userHash } from "./context";
import { NewUser } from "./user-new";
import { prevent, inputValue } from "./ui";

const PAGE_SIZE = 50;

interface Page {
  q: string;
  page: number;
}
interface Loaded extends Page {
  users: User[];
  more: boolean;
}

function pageOf(query: URLSearchParams): Page {
  const n = Number(query.get("page") ?? "1");
  return { q: query.get("q") ?? "", page: Number.isInteger(n) && n >= 1 ? n : 1 };
}

/** Keeps the page and search in the address without a navigation (no hashchange, no history entry). */
function remember(poolId: string, p: Page) {
  const params = new URLSearchParams();
  if (p.q) params.set("q", p.q);
  if (p.page > 1) params.set("page", String(p.page));
  const query = params.toString();
  history.replaceState(null, "", `#/pools/${enc(poolId)}/users${query ? `?${query}` : ""}`);
}

function UserRow({ pool, u }: { pool: Pool; u: User }) {
  const verified = u.verifiable_addresses.filter((a) => a.verified).map((a) => a.address);
  return (
    <tr>
      <td>
        <a href={userHash(pool.id, u.id)}>{displayName(u)}</a>
      </td>
      <td>{verified.length ? verified.join(", ") : <span class="muted">None</span>}</td>
      <td>
        <span class={`badge status-${u.status}`}>{u.status}</span>
      </td>
      <td class="date">{formatDate(u.created_at)}</td>
    </tr>
  );
}

function UsersTable({ pool, users }: { pool: Pool; users: User[] }) {
  return (
    <div class="table-wrap">
      <table class="users" aria-labelledby="users-title" aria-describedby="users-range">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Verified address</th>
            <th scope="col">Status</th>
            <th scope="col">Created</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <UserRow key={u.id} pool={pool} u={u} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

const rangeText = (l: Loaded) => {
  if (l.users.length === 0) return l.q ? `No user has an identifier containing “${l.q}”.` : "No users in this pool yet.";
  const first = (l.page - 1) * PAGE_SIZE + 1;
  const what = l.q ? ` with an identifier containing “${l.q}”` : "";
  return `Users ${first}–${first + l.users.length - 1}${what}, newest first.`;
};

/** Fetches one page (one extra row tells whether there is a next page); a page past the end falls back to the first. */
function usePages(pool: Pool, start: Page) {
  const ui = useConsole();
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const load = async (p: Page): Promise<Loaded | null> => {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE + 1), offset: String((p.page - 1) * PAGE_SIZE) });
    if (p.q) params.set("search", p.q);
    try {
      const { users } = await ui.api<{ users: User[] }>("GET", `/pools/${enc(pool.id)}/users?${params}`);
      if (users.length === 0 && p.page > 1) return load({ ...p, page: 1 });
      const l = { ...p, users: users.slice(0, PAGE_SIZE), more: users.length > PAGE_SIZE };
      setLoaded(l);
      remember(pool.id, p);
      return l;
    } catch (e) {
      ui.say(errorText(e, "Loading the users"), "error");
      return null;
    }
  };
  useEffect(() => {
    void load(start);
  }, []);
  return { loaded, load };
}

function SearchForm({ initial, onSearch }: { initial: string; onSearch: (q: string) => Promise<void> }) {
  const busy = useBusy();
  const [q, setQ] = useState(initial);
  return (
    <search>
      <form class="user-search row" novalidate onSubmit={prevent} aria-busy={busy.running === "search" ? "true" : undefined}>
        <label for="user-search">Search users</label>
        <input
          type="search"
          id="user-search"
          aria-describedby="user-search-hint"
          maxlength={256}
          value={q}
          onInput={(e) => setQ(inputValue(e))}
        />
        <BusyButton type="submit" class="secondary" action="search" onRun={() => onSearch(q.trim())}>
          Search
        </BusyButton>
        {initial ? (
          <BusyButton
            class="link"
            action="search-all"
            onRun={async () => {
              setQ("");
              await onSearch("");
              // This button goes away with the search: focus moves to the search field.
              document.getElementById("user-search")?.focus();
            }}
          >
            Show all users
          </BusyButton>
        ) : null}
        <p class="hint" id="user-search-hint">
          Any part of an identifier; upper and lower case are the same.
        </p>
      </form>
    </search>
  );
}

function Pager({ loaded, turn }: { loaded: Loaded; turn: (delta: 1 | -1) => void }) {
  const busy = useBusy();
  const prev = useRef<HTMLButtonElement>(null);
  const next = useRef<HTMLButtonElement>(null);
  const last = useRef<1 | -1 | 0>(0);
  useEffect(() => {
    // Focus stays on the button just used, or moves to the other one at the first or last page.
    if (busy.running || !last.current) return;
    const same = last.current === 1 ? next.current : prev.current;
    const other = last.current === 1 ? prev.current : next.current;
    (same && !same.disabled ? same : other)?.focus();
    last.current = 0;
  }, [busy.running, loaded]);
  const go = (delta: 1 | -1) => {
    last.current = delta;
    turn(delta);
  };
  return (
    <nav class="pager row" aria-label="Pages of users">
      <button
        type="button"
        class="secondary"
        ref={prev}
        disabled={loaded.page <= 1 || busy.running !== null}
        aria-busy={busy.running === "page" && last.current === -1 ? "true" : undefined}
        onClick={() => go(-1)}
      >
        Previous
      </button>
      <span class="hint">Page {loaded.page}</span>
      <button
        type="button"
        class="secondary"
        ref={next}
        disabled={!loaded.more || busy.running !== null}
        aria-busy={busy.running === "page" && last.current === 1 ? "true" : undefined}
        onClick={() => go(1)}
      >
        Next
      </button>
    </nav>
  );
}

export function UsersScreen({ pool, query }: { pool: Pool; query: URLSearchParams }) {
  const ui = useConsole();
  const busy = useBusy();
  const start = pageOf(query);
  const { loaded, load } = usePages(pool, start);
  const show = async (p: Page) => {
    const l = await load(p);
    if (l) ui.say(rangeText(l));
  };
  const turn = (delta: 1 | -1) => {
    if (loaded) void busy.run("page", () => show({ q: loaded.q, page: loaded.page + delta }));
  };
  return (
    <>
      <NewUser pool={pool} />
      <div class="card" aria-busy={busy.running === "page" || busy.running?.startsWith("search") ? "true" : undefined}>
        <h3 class="card-title" id="users-title">
          Users
        </h3>
        <SearchForm initial={loaded?.q ?? start.q} onSearch={(q) => show({ q, page: 1 })} />
        {loaded ? (
          <>
            <p class="hint" id="users-range">
              {rangeText(loaded)}
            </p>
            {loaded.users.length ? <UsersTable pool={pool} users={loaded.users} /> : null}
            {loaded.page > 1 || loaded.more ? <Pager loaded={loaded} turn={turn} /> : null}
          </>
        ) : (
          <p class="hint">Loading users…</p>
        )}
      </div>
    </>
  );
}
