/** Pool screen: "New pool" (name, optional id and description); the new pool opens on its Sign-in and Sign-up tab. */
import { useState } from "hono/jsx/dom";
import { codeOf, enc, errorText, fieldOf, type Pool, type PoolInput } from "./api";
import { useConsole } from "./context";
import { CreateForm, described, Disclosure, Field, IdField, inputValue } from "./ui";

const FIELDS = ["name", "id", "description"] as const;
type Errors = Partial<Record<(typeof FIELDS)[number], string>>;

function PoolForm({ close }: { close: () => void }) {
  const ui = useConsole();
  const [values, setValues] = useState({ name: "", id: "", description: "" });
  const [errors, setErrors] = useState<Errors>({});
  const set = (k: keyof typeof values) => (e: Event) => setValues({ ...values, [k]: inputValue(e) });

  const create = async () => {
    setErrors({});
    if (!values.name.trim()) {
      setErrors({ name: "Enter a name." });
      document.getElementById("new-pool-name")?.focus();
      return;
    }
    try {
      const body: PoolInput = {
        name: values.name.trim(),
        ...(values.id.trim() ? { id: values.id.trim() } : {}),
        ...(values.description.trim() ? { description: values.description.trim() } : {}),
      };
      const pool = await ui.api<Pool>("POST", "/pools", body);
      await ui.reloadPools();
      close();
      ui.go(`#/pools/${enc(pool.id)}`, `Pool “${pool.name}” created (id ${pool.id}).`);
    } catch (e) {
      const at =
        fieldOf(e, FIELDS) ??
        (codeOf(e) === "pool_exists" ? { key: "id" as const, message: "A pool with this ID already exists." } : undefined);
      if (at) {
        setErrors({ [at.key]: at.message });
        document.getElementById(`new-pool-${at.key}`)?.focus();
      }
      ui.say(errorText(e, "Creating the pool"), "error");
    }
  };

  return (
    <CreateForm name="new-pool" action="create-pool" submit="Create pool" onCreate={create} close={close}>
      <div class="grid2">
        <Field id="new-pool-name" label="Name" error={errors.name}>
          <input
            type="text"
            {...described("new-pool-name", false, errors.name)}
            maxlength={128}
            value={values.name}
            onInput={set("name")}
          />
        </Field>
        <IdField id="new-pool-id" usedIn="the API's paths" value={values.id} error={errors.id} onInput={set("id")} />
      </div>
      <Field id="new-pool-description" label="Description (optional)" error={errors.description}>
        <input
          type="text"
          {...described("new-pool-description", false, errors.description)}
          maxlength={1024}
          value={values.description}
          onInput={set("description")}
        />
      </Field>
      <p class="hint">
        A new pool offers passkeys as its first factor, for this server's domain. Change that on its Sign-in and Sign-up tab.
      </p>
    </CreateForm>
  );
}

export const NewPool = () => (
  <Disclosure id="new-pool" label="New pool">
    {(close: () => void) => <PoolForm close={close} />}
  </Disclosure>
);
