/**
 * Admin console screen "Authentication > workspace > Applications" (#/workspaces/{wid}/applications): the OpenID
 * Connect clients of one workspace. List, create (the secret is shown once, with a copy button), edit redirect URIs,
 * rotate the secret (shown once), delete after confirmation. API: .../system/workspaces/{wid}/clients.
 */
import type { z } from "@hono/zod-openapi";
import { useEffect, useRef, useState } from "hono/jsx/dom";
import type * as clientSchemas from "../../api/oidc-client";
import { BusyButton, useBusy } from "../lib/busy";
import { codeOf, enc, errorText, fieldOf } from "./api";
import { useConsole } from "./context";
import { CreateForm, checkedOf, DeleteButton, described, Disclosure, Field, IdField, inputValue, prevent } from "./ui";

type OidcClient = z.infer<typeof clientSchemas.OidcClientWithSecret>;
type OidcClientInput = z.input<typeof clientSchemas.OidcClientInput>;
type OidcClientUpdate = z.input<typeof clientSchemas.OidcClientUpdate>;

/** One URI a line; blank lines dropped. */
const linesOf = (text: string) =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);

const URI_HINT = "One a line, matched exactly. https, http only for localhost, or an app scheme such as com.example.app:/callback.";
const isPublic = (c: OidcClient) => c.token_endpoint_auth_method === "none";

/** A secret that is shown once: the value, a copy button and the warning. */
function SecretNotice({ clientId, secret, onDone }: { clientId: string; secret: string; onDone: () => void }) {
  const ui = useConsole();
  const box = useRef<HTMLElement>(null);
  useEffect(() => box.current?.querySelector<HTMLButtonElement>("button")?.focus(), []);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      ui.say("Client secret copied to the clipboard.", "success");
    } catch {
      ui.say("Copying failed: select the secret and copy it by hand.", "error");
    }
  };
  return (
    <section class="secret-once" aria-labelledby={`secret-${clientId}-title`} ref={box} data-secret-for={clientId}>
      <p class="secret-title" id={`secret-${clientId}-title`}>
        Client secret of {clientId}
      </p>
      <p class="warning">Copy it now: it is shown only this once. Store it in your app's configuration, never in browser code.</p>
      <div class="row">
        <code class="secret-value">{secret}</code>
        <button type="button" class="secondary small" onClick={copy}>
          Copy secret
        </button>
        <button type="button" class="secondary small" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

const NEW_FIELDS = ["client_name", "client_id", "redirect_uris", "post_logout_redirect_uris"] as const;
type NewErrors = Partial<Record<"client_name" | "client_id", string>>;

type Kind = "confidential" | "public";

function KindChoice({ kind, setKind }: { kind: Kind; setKind: (k: Kind) => void }) {
  return (
    <fieldset class="choices">
      <legend>Type</legend>
      <div class="choice">
        <input
          type="radio"
          id="new-app-confidential"
          name="new-app-kind"
          checked={kind === "confidential"}
          onChange={() => setKind("confidential")}
        />
        <label for="new-app-confidential">Web app with a server (confidential: client secret + PKCE)</label>
      </div>
      <div class="choice">
        <input type="radio" id="new-app-public" name="new-app-kind" checked={kind === "public"} onChange={() => setKind("public")} />
        <label for="new-app-public">Browser or mobile app (public: PKCE only, no secret)</label>
      </div>
    </fieldset>
  );
}

const Checkbox = ({ id, label, checked, set }: { id: string; label: string; checked: boolean; set: (on: boolean) => void }) => (
  <div class="check">
    <input type="checkbox" id={id} checked={checked} onChange={(e) => set(checkedOf(e))} />
    <label for={id}>{label}</label>
  </div>
);

/** The API body of a new application from the form's values. */
function newClientBody(f: { name: string; id: string; kind: Kind; offline: boolean; trusted: boolean; uris: Uris }): OidcClientInput {
  return {
    client_name: f.name.trim(),
    redirect_uris: linesOf(f.uris.redirects),
    post_logout_redirect_uris: linesOf(f.uris.logouts),
    token_endpoint_auth_method: f.kind === "public" ? "none" : "client_secret_basic",
    grant_types: f.offline ? ["authorization_code", "refresh_token"] : ["authorization_code"],
    scopes: f.offline ? ["openid", "profile", "email", "offline_access"] : ["openid", "profile", "email"],
    trusted: f.trusted,
    ...(f.id.trim() ? { client_id: f.id.trim() } : {}),
  };
}

function ApplicationForm({ wid, close, created }: { wid: string; close: () => void; created: (c: OidcClient) => void }) {
  const ui = useConsole();
  const [name, setName] = useState("");
  const [id, setId] = useState("");
  const [kind, setKind] = useState<Kind>("confidential");
  const uris = useUris();
  const [offline, setOffline] = useState(true);
  const [trusted, setTrusted] = useState(false);
  const [errors, setErrors] = useState<NewErrors>({});

  const create = async () => {
    setErrors({});
    uris.setErrors({});
    if (!linesOf(uris.redirects).length) {
      uris.setErrors({ redirect_uris: "Enter at least one redirect URI." });
      document.getElementById("new-app-redirect_uris")?.focus();
      return;
    }
    try {
      const body = newClientBody({ name, id, kind, offline, trusted, uris });
      const client = await ui.api<OidcClient>("POST", `/workspaces/${enc(wid)}/clients`, body);
      close();
      created(client);
      ui.say(
        client.client_secret
          ? `Application “${client.client_name || client.client_id}” created. Copy its secret now: it is not shown again.`
          : `Application “${client.client_name || client.client_id}” created (public: no secret, PKCE only).`,
        "success",
      );
    } catch (e) {
      const at = fieldOf(e, NEW_FIELDS);
      const key = at?.key ?? (codeOf(e) === "client_exists" ? "client_id" : undefined);
      if (key) {
        const message = at?.message ?? errorText(e, "Creating the application");
        if (key === "redirect_uris" || key === "post_logout_redirect_uris") uris.setErrors({ [key]: message });
        else setErrors({ [key]: message });
        document.getElementById(`new-app-${key}`)?.focus();
      }
      ui.say(errorText(e, "Creating the application"), "error");
    }
  };

  return (
    <CreateForm name="new-application" action="create-app" submit="Create application" onCreate={create} close={close}>
      <div class="grid2">
        <Field id="new-app-client_name" label="Name" error={errors.client_name}>
          <input
            type="text"
            {...described("new-app-client_name", false, errors.client_name)}
            maxlength={200}
            value={name}
            onInput={(e) => setName(inputValue(e))}
          />
        </Field>
        <IdField
          id="new-app-client_id"
          usedIn="your app's configuration (client_id)"
          value={id}
          error={errors.client_id}
          onInput={(e: Event) => setId(inputValue(e))}
        />
      </div>
      <KindChoice kind={kind} setKind={setKind} />
      <UriFields idPrefix="new-app" rows={3} uris={uris} />
      <Checkbox id="new-app-offline" label="Refresh tokens (offline_access)" checked={offline} set={setOffline} />
      <Checkbox id="new-app-trusted" label="Trusted (first-party: no consent page)" checked={trusted} set={setTrusted} />
    </CreateForm>
  );
}

const EDIT_FIELDS = ["redirect_uris", "post_logout_redirect_uris"] as const;
type EditErrors = Partial<Record<(typeof EDIT_FIELDS)[number], string>>;

/** The redirect and post-logout redirect URIs being edited (one a line) and their errors from the API. */
function useUris(initial?: OidcClient) {
  const [redirects, setRedirects] = useState(initial?.redirect_uris.join("\n") ?? "");
  const [logouts, setLogouts] = useState(initial?.post_logout_redirect_uris.join("\n") ?? "");
  const [errors, setErrors] = useState<EditErrors>({});
  const reset = (c: OidcClient) => {
    setRedirects(c.redirect_uris.join("\n"));
    setLogouts(c.post_logout_redirect_uris.join("\n"));
  };
  return { redirects, logouts, errors, setRedirects, setLogouts, setErrors, reset };
}
type Uris = ReturnType<typeof useUris>;

/** The editable redirect and post-logout redirect URIs of an application, one a line. */
function UriFields({ idPrefix: key, rows, uris }: { idPrefix: string; rows: number; uris: Uris }) {
  const { errors } = uris;
  return (
    <>
      <Field id={`${key}-redirect_uris`} label="Redirect URIs" hint={URI_HINT} error={errors.redirect_uris}>
        <textarea
          {...described(`${key}-redirect_uris`, true, errors.redirect_uris)}
          rows={rows}
          spellcheck={false}
          value={uris.redirects}
          onInput={(e) => uris.setRedirects(inputValue(e))}
        />
      </Field>
      <Field
        id={`${key}-post_logout_redirect_uris`}
        label="Post-logout redirect URIs"
        hint="Where the app may send people after they sign out (optional)."
        error={errors.post_logout_redirect_uris}
      >
        <textarea
          {...described(`${key}-post_logout_redirect_uris`, true, errors.post_logout_redirect_uris)}
          rows={2}
          spellcheck={false}
          value={uris.logouts}
          onInput={(e) => uris.setLogouts(inputValue(e))}
        />
      </Field>
    </>
  );
}

/** An application's name, id, kind and registration summary. */
const CardHead = ({ client, titleId }: { client: OidcClient; titleId: string }) => (
  <>
    <div class="card-head">
      <h3 id={titleId}>{client.client_name || client.client_id}</h3>
      <span class="badge">client_id {client.client_id}</span>
      <span class="badge">{isPublic(client) ? "Public (PKCE only)" : "Confidential"}</span>
      {client.trusted ? <span class="badge">Trusted</span> : null}
    </div>
    <p class="hint">
      Scopes: {client.scopes.join(" ")} · Grants: {client.grant_types.join(", ")} · ID tokens {client.id_token_signed_response_alg}
    </p>
  </>
);

interface CardProps {
  wid: string;
  initial: OidcClient;
  /** The secret to show once (just created or rotated), or null. */
  secret: string | null;
  setSecret: (secret: string | null) => void;
  gone: () => void;
}

function ApplicationCard({ wid, initial, secret, setSecret, gone }: CardProps) {
  const ui = useConsole();
  const busy = useBusy();
  const [client, setClient] = useState(initial);
  const uris = useUris(initial);
  const cid = client.client_id;
  const path = `/workspaces/${enc(wid)}/clients/${enc(cid)}`;
  const label = client.client_name || cid;
  const key = `app-${cid}`;

  const save = async () => {
    uris.setErrors({});
    try {
      const body: OidcClientUpdate = { redirect_uris: linesOf(uris.redirects), post_logout_redirect_uris: linesOf(uris.logouts) };
      const updated = await ui.api<OidcClient>("PUT", path, body);
      setClient(updated);
      uris.reset(updated);
      ui.say(`Saved the redirect URIs of “${label}”.`, "success");
    } catch (e) {
      const at = fieldOf(e, EDIT_FIELDS);
      if (at) {
        uris.setErrors({ [at.key]: at.message });
        document.getElementById(`${key}-${at.key}`)?.focus();
      }
      ui.say(errorText(e, `Saving “${label}”`), "error");
    }
  };
  const rotate = async () => {
    try {
      const rotated = await ui.api<OidcClient>("POST", `${path}/secret`);
      setClient(rotated);
      setSecret(rotated.client_secret ?? null);
      ui.say(`New secret for “${label}”: the old one no longer works. Copy the new one now: it is not shown again.`, "success");
    } catch (e) {
      ui.say(errorText(e, `Rotating the secret of “${label}”`), "error");
    }
  };
  const remove = async () => {
    try {
      await ui.api("DELETE", path);
      gone();
      ui.say(`Application “${label}” deleted.`, "success");
      document.getElementById("apps-title")?.focus();
    } catch (e) {
      ui.say(errorText(e, `Deleting “${label}”`), "error");
    }
  };

  return (
    <form
      class="card application"
      aria-labelledby={`${key}-title`}
      data-client={cid}
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === `save-${key}` ? "true" : undefined}
    >
      <CardHead client={client} titleId={`${key}-title`} />
      {secret ? <SecretNotice clientId={cid} secret={secret} onDone={() => setSecret(null)} /> : null}
      <UriFields idPrefix={key} rows={Math.max(2, client.redirect_uris.length)} uris={uris} />
      <div class="actions">
        <BusyButton type="submit" action={`save-${key}`} onRun={save}>
          Save
        </BusyButton>
        {isPublic(client) ? null : (
          <BusyButton class="secondary" action={`rotate-${key}`} onRun={rotate} aria-label={`Rotate secret of ${label}`}>
            Rotate secret
          </BusyButton>
        )}
        <span class="push-end">
          <DeleteButton
            what={`application ${label}`}
            text="Delete this application? People can no longer sign in to it, and its refresh tokens stop working at once."
            yes="Delete application"
            action={`delete-${key}`}
            onDelete={remove}
          />
        </span>
      </div>
    </form>
  );
}

export function ApplicationsScreen({ wid }: { wid: string }) {
  const ui = useConsole();
  const [clients, setClients] = useState<OidcClient[] | null>(null);
  const [secret, setSecret] = useState<{ clientId: string; value: string } | null>(null);
  useEffect(() => {
    document.title = `Applications · ${wid} · Admin console · passkey-edge`;
    ui.api<{ clients: OidcClient[] }>("GET", `/workspaces/${enc(wid)}/clients`)
      .then((r) => setClients(r.clients))
      .catch((e: unknown) => ui.say(errorText(e, "Loading the applications"), "error"));
  }, [wid]);

  const created = (c: OidcClient) => {
    setClients((all) => [...(all ?? []), c]);
    if (c.client_secret) setSecret({ clientId: c.client_id, value: c.client_secret });
  };

  return (
    <section id="screen-applications" class="screen" aria-labelledby="apps-title">
      <p class="crumbs">
        <a href="#/methods">Authentication</a> <span aria-hidden="true">›</span> Workspace {wid}
      </p>
      <h2 id="apps-title" tabindex={-1}>
        Applications
      </h2>
      <p class="hint intro">
        Apps that sign people in to this workspace with OpenID Connect. Issuer: <code>{`${location.origin}/${ui.tid}/${wid}`}</code>
      </p>
      <Disclosure id="new-application" label="New application">
        {(close: () => void) => <ApplicationForm wid={wid} close={close} created={created} />}
      </Disclosure>
      <div id="applications">
        {clients === null ? (
          <p class="hint">Loading applications…</p>
        ) : clients.length === 0 ? (
          <p class="card hint">This workspace has no application yet.</p>
        ) : (
          clients.map((c) => (
            <ApplicationCard
              key={c.client_id}
              wid={wid}
              initial={c}
              secret={secret?.clientId === c.client_id ? secret.value : null}
              setSecret={(value) => setSecret(value ? { clientId: c.client_id, value } : null)}
              gone={() => {
                setClients((all) => all?.filter((x) => x.client_id !== c.client_id) ?? null);
                if (secret?.clientId === c.client_id) setSecret(null);
              }}
            />
          ))
        )}
      </div>
    </section>
  );
}
