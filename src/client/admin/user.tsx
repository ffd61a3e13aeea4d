/** Pool sub-screen "Users > pool > user": details, passkeys (rename, delete), "Send enrollment code", delete the user. */
import { useEffect, useState } from "hono/jsx/dom";
import { BusyButton } from "../lib/busy";
import { formatDate } from "../lib/passkey-view";
import { enc, errorText, type Pool, type UserWithData, type Workspace } from "./api";
import { displayName, useConsole } from "./context";
import { DeleteButton } from "./ui";
import { PasskeysCard } from "./user-passkeys";

const userPath = (pool: Pool, userId: string) => `/pools/${enc(pool.id)}/users/${enc(userId)}`;

function Details({ user }: { user: UserWithData }) {
  const verified = user.verifiable_addresses.filter((a) => a.verified);
  return (
    <section class="card" aria-labelledby="details-title">
      <h3 class="card-title" id="details-title">
        Details
      </h3>
      <dl class="details">
        <dt>User ID</dt>
        <dd>
          <code>{user.id}</code>
        </dd>
        <dt>Identifiers</dt>
        <dd>{user.identifiers.map((i) => `${i.identifier} (${i.type})`).join(", ") || "None"}</dd>
        <dt>Verified addresses</dt>
        <dd>{verified.map((a) => a.address).join(", ") || "None"}</dd>
        <dt>Status</dt>
        <dd>
          <span class={`badge status-${user.status}`}>{user.status}</span>
        </dd>
        <dt>Password</dt>
        <dd>{user.credentials.some((c) => c.type === "password") ? "Set" : "Not set"}</dd>
        <dt>Created</dt>
        <dd>{formatDate(user.created_at)}</dd>
      </dl>
    </section>
  );
}

function EnrollmentCard({ pool, user, workspaces }: { pool: Pool; user: UserWithData; workspaces: Workspace[] }) {
  const ui = useConsole();
  const send = async () => {
    try {
      await ui.api("POST", `/pools/${enc(pool.id)}/user/webauthn/add/request`, { userID: user.id });
      ui.say("If the user has a verified address, a code is on its way.", "success");
    } catch (e) {
      ui.say(errorText(e, "Sending the enrollment code"), "error");
    }
  };
  const links = workspaces.filter((w) => w.identity_pools.includes(pool.id) && w.passkey_mode);
  return (
    <section class="card" aria-labelledby="enroll-title">
      <h3 class="card-title" id="enroll-title">
        Enrollment
      </h3>
      <p>
        Send the user a one-time code to create a passkey, e.g. a new user or one who lost their device. A new code replaces the previous
        one.
      </p>
      {user.verifiable_addresses.some((a) => a.verified) ? null : (
        <p class="warning">This user has no verified address, so no code can be delivered.</p>
      )}
      <div class="actions">
        <BusyButton id="send-code" action="send-code" onRun={send}>
          Send enrollment code
        </BusyButton>
      </div>
      {links.length ? (
        <div class="enroll-links">
          <p class="hint">The user enters the code at:</p>
          <ul class="plain">
            {links.map((w) => (
              <li key={w.id}>
                <code>{`${location.origin}/${enc(ui.tid)}/${enc(w.id)}/enroll?user=${enc(user.id)}`}</code>{" "}
                <span class="hint">({w.name})</span>
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <p class="hint">No workspace with passkeys lists this pool, so the user has no enrollment page yet.</p>
      )}
    </section>
  );
}

function DeleteUserCard({ pool, user }: { pool: Pool; user: UserWithData }) {
  const ui = useConsole();
  const name = displayName(user);
  const remove = async () => {
    try {
      await ui.api("DELETE", userPath(pool, user.id));
      ui.go(`#/pools/${enc(pool.id)}/users`, `User “${name}” deleted.`);
    } catch (e) {
      ui.say(errorText(e, `Deleting the user “${name}”`), "error");
    }
  };
  return (
    <section class="card danger-zone" aria-labelledby="delete-user-title">
      <h3 class="card-title" id="delete-user-title">
        Delete user
      </h3>
      <p class="hint">Deletes the user with their passkeys and password. They can no longer sign in.</p>
      <div class="actions">
        <DeleteButton
          what={name}
          label="Delete user"
          small={false}
          text={`Delete “${name}”? This cannot be undone.`}
          yes="Delete user now"
          action="delete-user"
          onDelete={remove}
        />
      </div>
    </section>
  );
}

export function UserScreen({ pool, userId, onName }: { pool: Pool; userId: string; onName: (name: string) => void }) {
  const ui = useConsole();
  // `loads` re-creates the passkey rows after a reload (a row being renamed ends its form).
  const [data, setData] = useState<{ user: UserWithData; workspaces: Workspace[]; loads: number } | null>(null);
  const load = async () => {
    const [user, { workspaces }] = await Promise.all([
      ui.api<UserWithData>("GET", userPath(pool, userId)),
      ui.api<{ workspaces: Workspace[] }>("GET", "/workspaces"),
    ]);
    setData((d) => ({ user, workspaces, loads: (d?.loads ?? 0) + 1 }));
    onName(displayName(user));
  };
  useEffect(() => {
    load().catch((e: unknown) => ui.say(errorText(e, "Loading"), "error"));
  }, []);
  const reload = async () => {
    await load().catch((e: unknown) => ui.say(errorText(e, "Loading"), "error"));
    document.getElementById("passkeys-title")?.focus();
  };
  return (
    <>
      <p>
        <a href={`#/pools/${enc(pool.id)}/users`} class="back">
          ← All users of {pool.name}
        </a>
      </p>
      {data ? (
        <>
          <Details user={data.user} />
          <PasskeysCard key={`passkeys-${data.loads}`} pool={pool} user={data.user} reload={reload} />
          <EnrollmentCard pool={pool} user={data.user} workspaces={data.workspaces} />
          <DeleteUserCard pool={pool} user={data.user} />
        </>
      ) : (
        <p class="hint">Loading the user…</p>
      )}
    </>
  );
}
