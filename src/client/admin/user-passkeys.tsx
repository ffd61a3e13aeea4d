/**
 * User screen: the user's passkeys (the one passkey view, passkey-view.ts) with rename and delete, each marked when it
 * no longer meets the pool's authenticator policy (it can no longer sign in).
 */
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { checkAuthenticator, type PolicyRule, storedFacts } from "../../domain/authenticator-policy";
import { ApiFailure } from "../lib/api";
import { BusyButton, useBusy } from "../lib/busy";
import { type PasskeyView, passkeyViews } from "../lib/passkey-view";
import { enc, errorText, type Pool, type UserWithData } from "./api";
import { useConsole } from "./context";
import { DeleteButton, prevent, useFocusOnClose, inputValue } from "./ui";

const ATTACHMENTS: Record<string, string> = { platform: "This device's authenticator", "cross-platform": "Security key or phone" };

/** The console's mark of a passkey the pool's authenticator policy refuses, per rule. */
const POLICY_MARKS: Record<PolicyRule, string> = {
  device_bound_only: "Synced passkey: this pool accepts only device-bound passkeys",
  aaguid_not_allowed: "Authenticator not allowed by the pool's list",
};

/** The mark of this passkey under the pool's policy, or null when it meets it (the same check as sign-in). */
function policyMark(pool: Pool, user: UserWithData, id: string): string | null {
  const payload = user.credentials.find((c) => c.id === id)?.payload;
  if (!payload) return null;
  const p = pool.passkey_settings.authenticator_policy;
  const check = checkAuthenticator(
    { deviceBoundOnly: p.device_bound_only, aaguidAllow: p.aaguid_allow, aaguidDeny: p.aaguid_deny },
    storedFacts({
      backupEligible: payload.flags?.backupEligible ?? null,
      aaguid: payload.authenticator?.AAGUID ?? null,
      attestationType: payload.attestationType ?? null,
    }),
  );
  return check.ok ? null : POLICY_MARKS[check.rule];
}

/** The authenticator's name, else what its attachment says about it. */
const authenticatorOf = (v: PasskeyView) => v.authenticatorName ?? ATTACHMENTS[v.attachment ?? ""] ?? v.authenticator;

interface RowProps {
  pool: Pool;
  user: UserWithData;
  v: PasskeyView;
  last: boolean;
  /** Reloads the user and focuses the passkeys' heading. */
  reload: () => Promise<void>;
}

function RenameForm({ v, base, done, cancel }: { v: PasskeyView; base: string; done: () => Promise<void>; cancel: () => void }) {
  const ui = useConsole();
  const busy = useBusy();
  const [name, setName] = useState(v.name ?? "");
  const [error, setError] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    input.current?.focus();
    input.current?.select();
  }, []);
  const save = async () => {
    setError(null);
    try {
      await ui.api("PUT", `${base}/name`, { name });
      ui.say(`Passkey renamed to “${name.trim()}”.`, "success");
      await done();
    } catch (e) {
      setError(e instanceof ApiFailure && e.status === 400 ? "Use 1 to 64 characters, without control characters." : "Renaming failed.");
      ui.say(errorText(e, "Renaming the passkey"), "error");
      input.current?.focus();
    }
  };
  const id = `rename-${v.id}`;
  return (
    <form class="rename" novalidate onSubmit={prevent} aria-busy={busy.running === id ? "true" : undefined}>
      <label for={id} class="visually-hidden">
        New name for {v.label}
      </label>
      <input
        type="text"
        id={id}
        ref={input}
        maxlength={64}
        autocomplete="off"
        aria-describedby={`${id}-error`}
        aria-invalid={error ? "true" : undefined}
        value={name}
        onInput={(e) => setName(inputValue(e))}
      />
      <p class="field-error" id={`${id}-error`} hidden={!error}>
        {error ?? ""}
      </p>
      <div class="row">
        <BusyButton type="submit" class="small" action={id} onRun={save}>
          Save name
        </BusyButton>
        <button type="button" class="secondary small" onClick={cancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function PasskeyRow({ pool, user, v, last, reload }: RowProps) {
  const ui = useConsole();
  const [renaming, setRenaming] = useState(false);
  const renameButton = useRef<HTMLButtonElement>(null);
  useFocusOnClose(renaming, renameButton);
  const base = `/pools/${enc(pool.id)}/users/${enc(user.id)}/webauthn/${enc(v.id)}`;
  const mark = policyMark(pool, user, v.id);
  const remove = async () => {
    try {
      await ui.api("DELETE", base);
      ui.say(`Passkey “${v.label}” deleted.`, "success");
      await reload();
    } catch (e) {
      ui.say(errorText(e, "Deleting the passkey"), "error");
    }
  };
  return (
    <tr data-passkey={v.id}>
      <td>
        {renaming ? (
          <RenameForm v={v} base={base} done={reload} cancel={() => setRenaming(false)} />
        ) : (
          <>
            <span class="passkey-name">{v.label}</span>
            {v.discoverable ? null : <span class="hint block">Classic only (not discoverable)</span>}
            {mark ? (
              <p class="field-error" data-policy-mark>
                {mark}. It can no longer sign in.
              </p>
            ) : null}
          </>
        )}
      </td>
      <td>{authenticatorOf(v)}</td>
      <td>
        <span class={`badge kind-${v.sync === "Synced" ? "synced" : "device"}`}>{v.sync}</span>
      </td>
      <td class="date">{v.created.text}</td>
      <td class="date">{v.lastUsed?.text ?? "Never"}</td>
      <td class="actions-cell">
        {renaming ? null : (
          <div class="row">
            <button
              type="button"
              class="secondary small"
              ref={renameButton}
              aria-label={`Rename ${v.label}`}
              onClick={() => setRenaming(true)}
            >
              Rename
            </button>
            <DeleteButton
              what={v.label}
              text={
                last
                  ? "Delete the user's last passkey? They will need a new enrollment code to sign in."
                  : "Delete this passkey? It stops working at once."
              }
              yes="Delete passkey"
              action={`delete-${v.id}`}
              onDelete={remove}
            />
          </div>
        )}
      </td>
    </tr>
  );
}

export function PasskeysCard({ pool, user, reload }: { pool: Pool; user: UserWithData; reload: () => Promise<void> }) {
  const views = passkeyViews(user.credentials);
  return (
    <section class="card" aria-labelledby="passkeys-title">
      <h3 class="card-title" id="passkeys-title" tabindex={-1}>
        Passkeys ({views.length})
      </h3>
      {views.length ? (
        <div class="table-wrap">
          <table class="passkeys" aria-labelledby="passkeys-title">
            <thead>
              <tr>
                {["Name", "Authenticator", "Kind", "Created", "Last used"].map((t) => (
                  <th key={t} scope="col">
                    {t}
                  </th>
                ))}
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {views.map((v) => (
                <PasskeyRow key={v.id} pool={pool} user={user} v={v} last={views.length === 1} reload={reload} />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="empty">No passkeys yet. Send an enrollment code so the user can create one.</p>
      )}
    </section>
  );
}
