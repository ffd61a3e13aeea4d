/** The passkey table's rows: name (or the inline rename form), authenticator, sync, dates, and Rename / Delete. */
import { useRef } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { LAST_PASSKEY_REASON, type PasskeyView } from "../lib/passkey-view";

export interface RowActions {
  /** Opens the rename form of a passkey, or closes it (null). */
  edit(id: string | null): void;
  rename(p: PasskeyView, value: string): Promise<void>;
  remove(p: PasskeyView): Promise<void>;
}

interface RowProps {
  p: PasskeyView;
  index: number;
  /** The user's only passkey: it cannot be deleted. */
  only: boolean;
  editing: boolean;
  /** The rename field holds a name the API would refuse. */
  invalid: boolean;
  actions: RowActions;
}

const When = ({ d }: { d: PasskeyView["created"] | null }) => (d ? <time datetime={d.iso}>{d.text}</time> : "Never");

function RenameForm({ p, index, invalid, actions }: RowProps) {
  const busy = useBusy();
  const inputId = `rename-${index}`;
  const input = useRef<HTMLInputElement>(null);
  return (
    <form
      class="rename-form"
      novalidate
      onSubmit={(e: Event) => e.preventDefault()}
      onKeyDown={(e: KeyboardEvent) => e.key === "Escape" && actions.edit(null)}
    >
      <label for={inputId}>New name</label>
      <input
        id={inputId}
        ref={input}
        type="text"
        name="name"
        maxlength={64}
        autocomplete="off"
        aria-describedby={`${inputId}-hint`}
        aria-invalid={invalid ? "true" : undefined}
        value={p.name ?? ""}
      />
      <p class="hint" id={`${inputId}-hint`}>
        For example the device it's on, like “Work laptop”.
      </p>
      <div class="row">
        <BusyButton type="submit" action={`rename:${p.id}`} onRun={() => actions.rename(p, input.current?.value ?? "")}>
          Save
        </BusyButton>
        <button type="button" class="secondary" disabled={busy.running !== null} onClick={() => actions.edit(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ActionsCell({ p, index, only, editing, actions }: RowProps) {
  const busy = useBusy();
  const reasonId = `delete-reason-${index}`;
  // While the name is edited, the row's other actions step aside (the form has its own Save and Cancel).
  return (
    <td class="actions" data-label="Actions">
      <div class="row" hidden={editing}>
        <button
          type="button"
          class="secondary small"
          data-rename={p.id}
          disabled={busy.running !== null}
          onClick={() => actions.edit(p.id)}
        >
          Rename<span class="visually-hidden"> {p.label}</span>
        </button>
        <BusyButton
          class="danger small"
          data-delete={p.id}
          action={`delete:${p.id}`}
          locked={only}
          aria-describedby={only ? reasonId : undefined}
          onRun={() => actions.remove(p)}
        >
          Delete<span class="visually-hidden"> {p.label}</span>
        </BusyButton>
      </div>
      {only && (
        <p class="hint reason" id={reasonId} hidden={editing}>
          {LAST_PASSKEY_REASON}
        </p>
      )}
    </td>
  );
}

export function PasskeyRow(props: RowProps) {
  const { p } = props;
  return (
    <tr data-id={p.id}>
      <th scope="row" data-label="Name">
        {props.editing ? <RenameForm {...props} /> : <span class={p.name ? "pk-name" : "pk-name unnamed"}>{p.label}</span>}
      </th>
      <td data-label="Authenticator">{p.authenticator}</td>
      <td data-label="Sync">
        <span class={p.sync === "Synced" ? "badge synced" : "badge"}>{p.sync}</span>
      </td>
      <td data-label="Created">
        <When d={p.created} />
      </td>
      <td data-label="Last used">
        <When d={p.lastUsed} />
      </td>
      <ActionsCell {...props} />
    </tr>
  );
}
