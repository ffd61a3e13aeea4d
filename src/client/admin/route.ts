/** Admin console routes: the address after "#", e.g. "#/pools/default/users?q=ada&page=2". */
export interface Route {
  /** The path without the query, e.g. "pools/default/users". */
  path: string;
  parts: string[];
  query: URLSearchParams;
  /** Counts navigations: going to the current hash again reloads the screen. */
  n: number;
}

let navigations = 0;
export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, "");
  const q = raw.indexOf("?");
  const parts = (q < 0 ? raw : raw.slice(0, q)).split("/").filter(Boolean).map(decodeURIComponent);
  return { path: parts.join("/"), parts, query: new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)), n: navigations++ };
}
