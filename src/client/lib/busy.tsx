/**
 * The one busy state of a page's components: while an action runs, every button of the page is disabled and the
 * button that started it carries aria-busy; afterwards focus returns to that button (disabling it dropped focus to
 * the body), unless the user has moved focus elsewhere or the button is gone.
 */
import { createContext, useContext, useEffect, useRef, useState } from "hono/jsx/dom";
import type { JSX } from "hono/jsx/dom/jsx-runtime";

export interface Busy {
  /** The action running, or null. */
  running: string | null;
  /** Runs fn as the named action; ignored while another action runs. Errors propagate after the state is reset. */
  run: (action: string, fn: () => Promise<void>) => Promise<void>;
}

/** The page's busy state; the page's root component calls useBusyState() and provides it. */
export const BusyContext = createContext<Busy>({ running: null, run: (_, fn) => fn() });

export function useBusyState(): Busy {
  const [running, setRunning] = useState<string | null>(null);
  const current = useRef<string | null>(null);
  return {
    running,
    async run(action, fn) {
      if (current.current) return;
      current.current = action;
      setRunning(action);
      try {
        await fn();
      } finally {
        current.current = null;
        setRunning(null);
      }
    },
  };
}

export const useBusy = () => useContext(BusyContext);

type ButtonProps = Omit<JSX.IntrinsicElements["button"], "onClick"> & {
  /** The action's name (unique on the page). */
  action: string;
  /** The action; it reports its own failures (announce), a rejection is only logged. */
  onRun: () => Promise<void>;
  /** Disabled for a reason of its own, busy or not. */
  locked?: boolean;
  children?: unknown;
};

/** A button that runs its action through the page's busy state. */
export function BusyButton({ action, onRun, locked = false, children, type = "button", ...rest }: ButtonProps) {
  const busy = useBusy();
  const ref = useRef<HTMLButtonElement>(null);
  const mine = busy.running === action;
  const wasMine = useRef(false);
  useEffect(() => {
    if (mine) wasMine.current = true;
    else if (wasMine.current) {
      wasMine.current = false;
      const el = ref.current;
      const focusLost = document.activeElement === document.body || !document.activeElement;
      if (el?.isConnected && !el.closest("[hidden]") && focusLost) el.focus();
    }
  }, [mine]);
  return (
    <button
      {...rest}
      type={type}
      ref={ref}
      disabled={locked || busy.running !== null}
      aria-busy={mine ? "true" : undefined}
      onClick={() => void busy.run(action, onRun).catch((err: unknown) => console.error(err))}
    >
      {children}
    </button>
  );
}
