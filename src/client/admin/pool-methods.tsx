/** Pool card "Sign-in and Sign-up": first- and second-factor methods (add, remove, make preferred), saved with one PUT. */
import { useRef, useState } from "hono/jsx/dom";
import { BusyButton, useBusy } from "../lib/busy";
import { enc, errorText, fieldMessage, type Mechanism, type Pool, type PoolUpdate } from "./api";
import { family, methodLabel, POOL_METHODS, useConsole } from "./context";
import { prevent } from "./ui";
import { ApiFailure } from "../lib/api";

type Factor = "first" | "second";
interface Methods {
  first: Mechanism[];
  preferred: Mechanism | "";
  second: Mechanism[];
  secondPreferred: Mechanism | "";
}

const methodsOf = (p: Pool): Methods => ({
  first: [...p.authentication_mechanisms],
  preferred: p.preferred_authentication_mechanism,
  second: [...p.second_factor_authentication_mechanisms],
  secondPreferred: p.second_factor_preferred_authentication_mechanism,
});
const factorName = (f: Factor) => (f === "first" ? "first factor" : "second factor");
const listOf = (s: Methods, f: Factor) => (f === "first" ? s.first : s.second);
const preferredOf = (s: Methods, f: Factor) => (f === "first" ? s.preferred : s.secondPreferred);
function withList(s: Methods, f: Factor, list: Mechanism[], preferred: Mechanism | ""): Methods {
  return f === "first" ? { ...s, first: list, preferred } : { ...s, second: list, secondPreferred: preferred };
}

interface FactorProps {
  f: Factor;
  state: Methods;
  change: (next: Methods, message: string) => void;
}

function MethodItem({ f, state, change, m }: FactorProps & { m: Mechanism }) {
  const list = listOf(state, f);
  const remove = () => {
    const next = list.filter((x) => x !== m);
    const preferred = preferredOf(state, f) === m ? (next[0] ?? "") : preferredOf(state, f);
    change(withList(state, f, next, preferred), `${methodLabel(m)} removed from the ${factorName(f)}.`);
  };
  return (
    <li>
      <span class="method">{methodLabel(m)}</span>
      {preferredOf(state, f) === m ? (
        <span class="badge preferred">Preferred</span>
      ) : (
        <button
          type="button"
          class="link"
          aria-label={`Make ${methodLabel(m)} the preferred ${factorName(f)}`}
          onClick={() => change(withList(state, f, list, m), `${methodLabel(m)} is now the preferred ${factorName(f)}.`)}
        >
          Make preferred
        </button>
      )}
      <button type="button" class="secondary small" aria-label={`Remove ${methodLabel(m)} from the ${factorName(f)}`} onClick={remove}>
        Remove
      </button>
    </li>
  );
}

function AddMethod({ f, state, change }: FactorProps) {
  const select = useRef<HTMLSelectElement>(null);
  const used = new Set([...state.first, ...state.second].map(family));
  const available = POOL_METHODS.filter((m) => !used.has(family(m)));
  const add = () => {
    const m = available.find((x) => x === select.current?.value);
    if (!m) return;
    const list = listOf(state, f);
    change(withList(state, f, [...list, m], preferredOf(state, f) || m), `${methodLabel(m)} added to the ${factorName(f)}.`);
    select.current?.focus();
  };
  return (
    <div class="add-method">
      <label for={`add-${f}`}>Add a {factorName(f)} method</label>
      <div class="row">
        <select id={`add-${f}`} ref={select} disabled={available.length === 0}>
          {available.length ? (
            available.map((m) => (
              <option key={m} value={m}>
                {methodLabel(m)}
              </option>
            ))
          ) : (
            <option value="">Every method is in use</option>
          )}
        </select>
        <button type="button" class="secondary" disabled={available.length === 0} onClick={add}>
          Add
        </button>
      </div>
    </div>
  );
}

function FactorList(props: FactorProps) {
  const { f, state } = props;
  const list = listOf(state, f);
  return (
    <div id={`factor-${f}`}>
      <h4 id={`factor-${f}-title`}>{f === "first" ? "First factor" : "Second factor"}</h4>
      <p class="hint">
        {f === "first"
          ? "How users of this pool sign in. The preferred method is offered first."
          : "Asked for after the first factor. Leave empty for single-factor sign-in."}
      </p>
      {list.length ? (
        <ul class="methods" aria-labelledby={`factor-${f}-title`}>
          {list.map((m) => (
            <MethodItem key={m} {...props} m={m} />
          ))}
        </ul>
      ) : (
        <p class="empty">{f === "first" ? "No method: nobody can sign in." : "No second factor."}</p>
      )}
      <AddMethod {...props} />
    </div>
  );
}

export function MethodsCard({ pool }: { pool: Pool }) {
  const ui = useConsole();
  const busy = useBusy();
  const [state, setState] = useState(() => methodsOf(pool));
  const [dirty, setDirty] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const change = (next: Methods, message: string) => {
    setState(next);
    setDirty(true);
    setError(null);
    ui.say(`${message} Save to apply.`);
  };
  const save = async () => {
    try {
      const body: PoolUpdate = {
        authentication_mechanisms: state.first,
        preferred_authentication_mechanism: state.preferred,
        second_factor_authentication_mechanisms: state.second,
        second_factor_preferred_authentication_mechanism: state.secondPreferred,
      };
      const updated = await ui.api<Pool>("PUT", `/pools/${enc(pool.id)}`, body);
      setState(methodsOf(updated));
      setDirty(false);
      ui.poolSaved(updated);
      ui.say("Sign-in methods saved.", "success");
    } catch (e) {
      setError(e instanceof ApiFailure ? fieldMessage(e.message, e.field ?? "") : "Saving failed.");
      ui.say(errorText(e, "Saving the sign-in methods"), "error");
    }
  };
  return (
    <form
      class="card"
      id="signin-card"
      aria-labelledby="signin-title"
      novalidate
      onSubmit={prevent}
      aria-busy={busy.running === "save-methods" ? "true" : undefined}
    >
      <h3 id="signin-title" class="card-title">
        Sign-in and Sign-up
      </h3>
      <div class="factors">
        <FactorList f="first" state={state} change={change} />
        <FactorList f="second" state={state} change={change} />
      </div>
      <p class="field-error" id="methods-error" hidden={!error}>
        {error ?? ""}
      </p>
      <div class="actions">
        <BusyButton type="submit" action="save-methods" onRun={save} aria-describedby="methods-error">
          Save sign-in methods
        </BusyButton>
        <span class="hint" hidden={!dirty}>
          Unsaved changes
        </span>
      </div>
    </form>
  );
}
