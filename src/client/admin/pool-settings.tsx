/**
 * Pool sub-screen "Sign-in and Sign-up": the methods, "Passkey Settings" and "Pool Limits" cards (each saves with its
 * own PUT /pools/{id}) and deleting the pool (409 pool_in_use while a workspace lists it).
 */
import { useState } from "hono/jsx/dom";
import { codeOf, enc, errorText, type Pool } from "./api";
import { ADMIN_POOL, useConsole } from "./context";
import { LimitsCard } from "./pool-limits";
import { MethodsCard } from "./pool-methods";
import { PasskeyCard } from "./pool-passkey";
import { PolicyCard } from "./pool-policy";
import { DeleteButton } from "./ui";

function DeletePoolCard({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const [error, setError] = useState<string | null>(null);
  const remove = async () => {
    setError(null);
    try {
      await ui.api("DELETE", `/pools/${enc(pool.id)}`);
      const left = await ui.reloadPools();
      const next = left.find((p) => p.id === "default") ?? left[0];
      ui.go(next ? `#/pools/${enc(next.id)}` : "#/methods", `Pool “${pool.name}” deleted.`);
    } catch (e) {
      if (codeOf(e) === "pool_in_use") {
        setError("Workspaces still sign in users of this pool: remove it from their pools first (Authentication > Settings > Methods).");
      }
      ui.say(errorText(e, `Deleting the pool “${pool.name}”`), "error");
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="delete-pool-title" aria-describedby="delete-pool-error">
      <h3 class="card-title" id="delete-pool-title">
        Delete pool
      </h3>
      <p class="hint">
        Deletes the pool with its users and their passkeys and passwords. A pool that a workspace signs users in from cannot be deleted.
      </p>
      <p class="field-error" id="delete-pool-error" hidden={!error}>
        {error ?? ""}
      </p>
      <div class="actions">
        <DeleteButton
          what={pool.name}
          label="Delete pool"
          small={false}
          text={`Delete “${pool.name}” with all its users? This cannot be undone.`}
          yes="Delete pool and users"
          action="delete-pool"
          onDelete={remove}
        />
      </div>
    </section>
  );
}

export function PoolSettings({ pool }: { pool: Pool }) {
  return (
    <>
      {pool.description ? <p class="hint intro">{pool.description}</p> : null}
      <MethodsCard pool={pool} />
      <PasskeyCard pool={pool} />
      <PolicyCard pool={pool} />
      <LimitsCard pool={pool} />
      {pool.id === ADMIN_POOL ? null : <DeletePoolCard pool={pool} />}
    </>
  );
}
