/** Admin console screen "Users > pool": the pool picker, "New pool", and the pool's sub-screens. */
import { useEffect, useState } from "hono/jsx/dom";
import type { Route } from "./route";
import { enc, errorText, type Pool } from "./api";
import { useConsole } from "./context";
import { NewPool } from "./pool-new";
import { PoolSettings } from "./pool-settings";
import { UserScreen } from "./user";
import { UsersScreen } from "./users";
import { inputValue } from "./ui";

type Sub = "signin" | "users";

function PoolBar({ pools, pool, sub, crumb }: { pools: Pool[]; pool: Pool | undefined; sub: Sub; crumb: string }) {
  const ui = useConsole();
  return (
    <div class="pool-bar">
      <p class="crumbs">
        Users <span aria-hidden="true">›</span> <span id="crumb-pool">{pool?.name ?? ""}</span>
        <span id="crumb-tail">
          <span aria-hidden="true"> › </span>
          {crumb}
        </span>
      </p>
      <div class="pool-picker">
        <label for="pool-picker">Pool</label>
        <select
          id="pool-picker"
          value={pool?.id ?? ""}
          onChange={(e) => ui.go(`#/pools/${enc(inputValue(e))}${sub === "users" ? "/users" : ""}`)}
        >
          {pools.map((p) => (
            <option key={p.id} value={p.id} selected={p.id === pool?.id}>
              {p.name} ({p.id})
            </option>
          ))}
        </select>
      </div>
      <NewPool />
    </div>
  );
}

function SubTabs({ pool, sub }: { pool: Pool; sub: Sub }) {
  const base = `#/pools/${enc(pool.id)}`;
  return (
    <nav class="tabs sub" aria-label="Pool sections">
      <a id="subtab-signin" data-subtab="signin" href={base} aria-current={sub === "signin" ? "page" : undefined}>
        Sign-in and Sign-up
      </a>
      <a id="subtab-users" data-subtab="users" href={`${base}/users`} aria-current={sub === "users" ? "page" : undefined}>
        Users
      </a>
    </nav>
  );
}

function PoolBody({ route, pool, sub, onUserName }: { route: Route; pool: Pool; sub: Sub; onUserName: (n: string) => void }) {
  const key = `${route.path}:${route.n}`;
  const userId = route.parts[3];
  if (sub === "signin") return <PoolSettings key={key} pool={pool} />;
  if (userId) return <UserScreen key={key} pool={pool} userId={userId} onName={onUserName} />;
  return <UsersScreen key={key} pool={pool} query={route.query} />;
}

/**
 * The pool the address names. The list is loaded once and cached; a pool it does not know (created elsewhere since)
 * reloads it once; a pool that does not exist sends the address to the default pool (or the first).
 */
function usePool(wanted: string | undefined, path: string) {
  const ui = useConsole();
  const all = ui.pools;
  const [rechecked, setRechecked] = useState<string | null>(null);
  const found = all?.find((p) => p.id === wanted);
  const checking = Boolean(all && wanted && !found && rechecked !== wanted);
  const pool = all && !checking ? (found ?? all.find((p) => p.id === "default") ?? all[0]) : undefined;
  const failed = (e: unknown) => ui.say(errorText(e, "Loading"), "error");
  useEffect(() => {
    if (!all) ui.reloadPools().catch(failed);
  }, []);
  useEffect(() => {
    if (checking && wanted) {
      ui.reloadPools()
        .catch(failed)
        .finally(() => setRechecked(wanted));
    }
  }, [checking, wanted]);
  useEffect(() => {
    if (pool && wanted !== pool.id) location.replace(`#/pools/${enc(pool.id)}`);
  }, [pool?.id, path]);
  return { all: checking ? null : all, pool };
}

export function PoolScreen({ route }: { route: Route }) {
  const [userName, setUserName] = useState<string | null>(null);
  const parts = route.parts;
  const { all, pool } = usePool(parts[1], route.path);
  const sub: Sub = parts[2] === "users" ? "users" : "signin";
  const userId = sub === "users" ? parts[3] : undefined;
  const crumb = userId ? (userName ?? "User") : sub === "users" ? "Users" : "Sign-in and Sign-up";
  const title = userId ? (userName ?? "User") : (pool?.name ?? "Pool");

  useEffect(() => setUserName(null), [userId]);
  useEffect(() => {
    if (pool) document.title = `${title} · ${crumb} · Admin console · passkey-edge`;
  }, [title, crumb, pool?.id]);

  const ready = pool && parts[1] === pool.id;
  return (
    <section id="screen-pool" class="screen" aria-labelledby="pool-title">
      <PoolBar pools={all ?? []} pool={pool} sub={sub} crumb={crumb} />
      <h2 id="pool-title" tabindex={-1}>
        {title}
      </h2>
      {pool ? <SubTabs pool={pool} sub={sub} /> : null}
      <div id="pool-body">
        {!all ? (
          <p class="hint">Loading pools…</p>
        ) : all.length === 0 ? (
          <p class="card empty">This tenant has no pools yet.</p>
        ) : ready ? (
          <PoolBody route={route} pool={pool} sub={sub} onUserName={setUserName} />
        ) : null}
      </div>
    </section>
  );
}
