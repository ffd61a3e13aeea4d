/**
 * A page's live region as a component (id "status"): role=status (polite), role=alert for errors. Each message is a new text
 * node (keyed), so the same message said twice is announced twice, as with the former textContent writes.
 */
import { useState } from "hono/jsx/dom";

export type StatusKind = "info" | "error" | "success";

export interface StatusState {
  message: string;
  kind: StatusKind;
  seq: number;
}

export type Say = (message: string, kind?: StatusKind) => void;

export function useStatus(): [StatusState, Say] {
  const [status, setStatus] = useState<StatusState>({ message: "", kind: "info", seq: 0 });
  const say: Say = (message, kind = "info") => setStatus((s) => ({ message, kind, seq: s.seq + 1 }));
  return [status, say];
}

export const StatusRegion = ({ status }: { status: StatusState }) => (
  <p
    id="status"
    role={status.kind === "error" ? "alert" : "status"}
    aria-live="polite"
    class={status.kind === "info" ? undefined : status.kind}
  >
    {status.message ? <span key={status.seq}>{status.message}</span> : null}
  </p>
);
