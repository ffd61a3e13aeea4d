/** Admin console screen "Authentication > Settings > Methods": the tenant's workspaces; create and delete them. */
import { useEffect, useState } from "hono/jsx/dom";
import { errorText, type Workspace } from "./api";
import { useConsole } from "./context";
import { NewWorkspace } from "./workspace-new";
import { WorkspaceCard } from "./workspace";

export function MethodsScreen() {
  const ui = useConsole();
  const [workspaces, setWorkspaces] = useState<Workspace[] | null>(null);
  useEffect(() => {
    document.title = "Methods · Admin console · passkey-edge";
    ui.api<{ workspaces: Workspace[] }>("GET", "/workspaces")
      .then((r) => setWorkspaces(r.workspaces))
      .catch((e: unknown) => ui.say(errorText(e, "Loading"), "error"));
    if (!ui.pools) ui.reloadPools().catch(() => undefined);
  }, []);

  return (
    <section id="screen-methods" class="screen" aria-labelledby="methods-title">
      <p class="crumbs">
        Authentication <span aria-hidden="true">›</span> Settings
      </p>
      <h2 id="methods-title" tabindex={-1}>
        Methods
      </h2>
      <p class="hint intro">
        How people sign in to each workspace. A workspace uses passkeys in one mode: Smart (people pick their passkey, no username to type)
        or Classic (people enter their username first).
      </p>
      <NewWorkspace />
      <div id="workspaces">
        {workspaces === null ? (
          <p class="hint">Loading workspaces…</p>
        ) : workspaces.length === 0 ? (
          <p class="card hint">This tenant has no workspace yet.</p>
        ) : (
          workspaces.map((w) => <WorkspaceCard key={w.id} initial={w} />)
        )}
      </div>
    </section>
  );
}
