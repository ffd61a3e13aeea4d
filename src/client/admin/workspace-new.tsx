/** Methods screen: "New workspace" (name, optional id, the pools it signs users in from). */
import { useState } from "hono/jsx/dom";
import { codeOf, errorText, fieldOf, type Workspace, type WorkspaceInput } from "./api";
import { useConsole } from "./context";
import { CreateForm, checkedOf, described, Disclosure, Field, IdField, inputValue } from "./ui";

const FIELDS = ["name", "id", "identity_pools"] as const;
type Errors = Partial<Record<(typeof FIELDS)[number], string>>;

function WorkspaceForm({ close }: { close: () => void }) {
  const ui = useConsole();
  const [name, setName] = useState("");
  const [id, setId] = useState("");
  const [pools, setPools] = useState<string[]>([]);
  const [errors, setErrors] = useState<Errors>({});

  const create = async () => {
    setErrors({});
    if (!name.trim()) {
      setErrors({ name: "Enter a name." });
      document.getElementById("new-ws-name")?.focus();
      return;
    }
    try {
      const body: WorkspaceInput = { name: name.trim(), identity_pools: pools, ...(id.trim() ? { id: id.trim() } : {}) };
      const ws = await ui.api<Workspace>("POST", "/workspaces", body);
      ui.go("#/methods", `Workspace “${ws.name}” created (id ${ws.id}). Choose its sign-in methods below.`);
    } catch (e) {
      const at = fieldOf(e, FIELDS);
      const key = at?.key ?? (codeOf(e) === "workspace_exists" ? "id" : undefined);
      if (key) {
        setErrors({ [key]: at?.message ?? errorText(e, "Creating the workspace") });
        document.getElementById(key === "identity_pools" ? "new-ws-pools" : `new-ws-${key}`)?.focus();
      }
      ui.say(errorText(e, "Creating the workspace"), "error");
    }
  };

  return (
    <CreateForm name="new-workspace" action="create-ws" submit="Create workspace" onCreate={create} close={close}>
      <div class="grid2">
        <Field id="new-ws-name" label="Name" error={errors.name}>
          <input
            type="text"
            {...described("new-ws-name", false, errors.name)}
            maxlength={128}
            value={name}
            onInput={(e) => setName(inputValue(e))}
          />
        </Field>
        <IdField id="new-ws-id" usedIn="the workspace's URLs" value={id} error={errors.id} onInput={(e: Event) => setId(inputValue(e))} />
      </div>
      <fieldset id="new-ws-pools" tabindex={-1} aria-describedby="new-ws-pools-error">
        <legend>Signs in users of</legend>
        {(ui.pools ?? []).map((p) => (
          <div class="check" key={p.id}>
            <input
              type="checkbox"
              id={`new-ws-pool-${p.id}`}
              checked={pools.includes(p.id)}
              onChange={(e) => setPools(checkedOf(e) ? [...pools, p.id] : pools.filter((x) => x !== p.id))}
            />
            <label for={`new-ws-pool-${p.id}`}>
              {p.name} ({p.id})
            </label>
          </div>
        ))}
        <p class="field-error" id="new-ws-pools-error" hidden={!errors.identity_pools}>
          {errors.identity_pools ?? ""}
        </p>
      </fieldset>
    </CreateForm>
  );
}

export const NewWorkspace = () => (
  <Disclosure id="new-workspace" label="New workspace">
    {(close: () => void) => <WorkspaceForm close={close} />}
  </Disclosure>
);
