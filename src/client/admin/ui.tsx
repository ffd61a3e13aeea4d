/** Admin console building blocks: labelled fields with hint and error, the delete confirmation, small helpers. */
import { useEffect, useRef, useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";

/** The value of the input, select or textarea an event came from. */
export const inputValue = (e: Event) => (e.currentTarget as HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement).value;
export const checkedOf = (e: Event) => (e.currentTarget as HTMLInputElement).checked;
export const prevent = (e: Event) => e.preventDefault();

/** The attributes that tie a control to its hint and its error message (ids `${id}-hint`, `${id}-error`). */
export function described(id: string, hint: boolean, error: string | null | undefined) {
  return {
    id,
    "aria-describedby": hint ? `${id}-hint ${id}-error` : `${id}-error`,
    "aria-invalid": error ? "true" : undefined,
  };
}

interface FieldProps {
  id: string;
  label: string;
  hint?: string;
  error?: string | null;
  children: unknown;
}

/** A labelled form field: label, the control (spread `described(...)` on it), the API's error message, the hint. */
export function Field({ id, label, hint, error, children }: FieldProps) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      <p class="field-error" id={`${id}-error`} hidden={!error}>
        {error ?? ""}
      </p>
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
    </div>
  );
}

/** Focuses `ref` whenever `flag` turns from true to false (focus return after a disclosure or confirmation closes). */
export function useFocusOnClose(flag: boolean, ref: { current: HTMLElement | null }) {
  const was = useRef(false);
  useEffect(() => {
    if (was.current && !flag) ref.current?.focus();
    was.current = flag;
  }, [flag]);
}

interface DeleteProps {
  /** What is deleted, for the buttons' accessible names, e.g. "Work laptop" or "pool Staff". */
  what: string;
  /** The visible label of the first button. */
  label?: string;
  /** The confirmation's sentence. */
  text: string;
  /** The confirming button's label, e.g. "Delete passkey". */
  yes: string;
  action: string;
  /** Deletes, then navigates or reloads; on failure it reports the error and the confirmation stays. */
  onDelete: () => Promise<void>;
  small?: boolean;
}

/** A delete button that asks first: focus moves to the confirming button, and back to Delete on "Keep". */
export function DeleteButton({ what, label = "Delete", text, yes, action, onDelete, small = true }: DeleteProps) {
  const [asking, setAsking] = useState(false);
  const deleteRef = useRef<HTMLButtonElement>(null);
  const groupRef = useRef<HTMLFieldSetElement>(null);
  useFocusOnClose(asking, deleteRef);
  useEffect(() => {
    if (asking) groupRef.current?.querySelector<HTMLButtonElement>("button")?.focus();
  }, [asking]);
  const size = small ? " small" : "";
  if (!asking) {
    return (
      <button type="button" class={`danger${size}`} ref={deleteRef} aria-label={`${label} ${what}`} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <fieldset class="confirm" aria-label={`${label} ${what}?`} ref={groupRef}>
      <p class="confirm-text">{text}</p>
      <div class="row">
        <BusyButton class={`danger solid${size}`} action={action} onRun={onDelete}>
          {yes}
        </BusyButton>
        <button type="button" class={`secondary${size}`} onClick={() => setAsking(false)}>
          Keep
        </button>
      </div>
    </fieldset>
  );
}

interface DisclosureProps {
  id: string;
  /** The opening button's label, e.g. "New pool"; the card's heading is the same. */
  label: string;
  /** The form; `close` hides it and returns focus to the opening button. */
  children: (close: () => void) => unknown;
}

/** A button that shows a form card under it ("New pool", "New user"); closing returns focus to the button. */
export function Disclosure({ id, label, children }: DisclosureProps) {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const card = useRef<HTMLDivElement>(null);
  useFocusOnClose(open, button);
  useEffect(() => {
    if (open) card.current?.querySelector<HTMLElement>("input, select, textarea")?.focus();
  }, [open]);
  return (
    <div class="disclosure">
      <button
        type="button"
        class="secondary"
        ref={button}
        aria-expanded={open ? "true" : "false"}
        aria-controls={id}
        onClick={() => setOpen(!open)}
      >
        {label}
      </button>
      <div class="card new-card" id={id} ref={card} hidden={!open}>
        <h3 class="card-title" id={`${id}-title`}>
          {label}
        </h3>
        {open ? children(() => setOpen(false)) : null}
      </div>
    </div>
  );
}

interface CreateFormProps {
  /** The form's class, e.g. "new-pool". */
  name: string;
  /** The busy action of its submit button, e.g. "create-pool". */
  action: string;
  /** The submit button's label, e.g. "Create pool". */
  submit: string;
  onCreate: () => Promise<void>;
  close: () => void;
  children: unknown;
}

/** The form of a "New …" disclosure: its fields, then Create (a busy action) and Cancel. */
export function CreateForm({ name, action, submit, onCreate, close, children }: CreateFormProps) {
  const busy = useBusy();
  return (
    <form class={name} novalidate onSubmit={prevent} aria-busy={busy.running === action ? "true" : undefined}>
      {children}
      <div class="actions">
        <BusyButton type="submit" action={action} onRun={onCreate}>
          {submit}
        </BusyButton>
        <button type="button" class="secondary" onClick={close}>
          Cancel
        </button>
      </div>
    </form>
  );
}

interface IdFieldProps {
  id: string;
  /** Where the id is used, e.g. "the API's paths". */
  usedIn: string;
  value: string;
  error?: string | null;
  onInput: (e: Event) => void;
}

/** The optional id of a new pool or workspace: generated by the API when empty. */
export const IdField = ({ id, usedIn, value, error, onInput }: IdFieldProps) => (
  <Field id={id} label="ID (optional)" hint={`Letters, digits, - and _; used in ${usedIn}. Generated when empty.`} error={error}>
    <input
      type="text"
      {...described(id, true, error)}
      maxlength={64}
      autocomplete="off"
      spellcheck={false}
      value={value}
      onInput={onInput}
    />
  </Field>
);
