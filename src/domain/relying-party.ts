/**
 * Relying Party ID and origin rules (pure). An RP ID is a domain name or `localhost`: no scheme, port, path or IP.
 * An origin is exactly `scheme://host[:port]`: https, or http only for localhost. Its host is the RP ID or a
 * subdomain of it, or else it is a related origin (WebAuthn L3 §5.11): https on a domain name, for a non-empty RP ID
 * that is not localhost, published at `https://{rpId}/.well-known/webauthn` (src/services/related-origins.ts) so that
 * browsers let it use the RP ID's passkeys.
 */
import { fail, type Result } from "./result";

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

const RP_ID_FIELD = "passkey_settings.relying_party_id";
const ORIGINS_FIELD = "passkey_settings.relying_party_origins";

export function checkRpId(input: string): Result<string> {
  const bad = (message: string) => fail(RP_ID_FIELD, message);
  const id = input.trim().toLowerCase();
  if (id === "") return { ok: true, value: "" };
  if (id.includes("://")) return bad("relying_party_id must not contain a scheme");
  if (/[/?#]/.test(id)) return bad("relying_party_id must not contain a path");
  if (id.includes("[") || id.includes(":")) {
    return bad(
      id.includes("[") || id.split(":").length > 2
        ? "relying_party_id must not be an IP address"
        : "relying_party_id must not contain a port",
    );
  }
  if (IPV4.test(id) || /^[0-9.]+$/.test(id)) return bad("relying_party_id must not be an IP address");
  if (id === "localhost") return { ok: true, value: id };
  if (id.length > 253) return bad("relying_party_id is too long");
  const labels = id.endsWith(".") ? [] : id.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    return bad("relying_party_id must be a domain name such as example.com, or localhost");
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? "")) return bad("relying_party_id must not be an IP address");
  return { ok: true, value: id };
}

/** `host` equals `rpId` or is a subdomain of it. */
export function hostMatchesRpId(host: string, rpId: string): boolean {
  return host === rpId || host.endsWith(`.${rpId}`);
}

export function isLocalhost(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost");
}

export function checkOrigin(input: string, rpId: string): Result<string> {
  const bad = (message: string) => fail(ORIGINS_FIELD, message);
  let url: URL;
  try {
    url = new URL(input.trim());
  } catch {
    return bad(`"${input}" is not an origin of the form scheme://host[:port]`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return bad(`"${input}" must use https (or http for localhost)`);
  }
  const host = url.hostname;
  if (url.protocol === "http:" && !isLocalhost(host)) return bad(`"${input}" must use https; http is allowed only for localhost`);
  if (url.username || url.password || url.search || url.hash || /^[a-z]+:\/\/[^/]+\/./i.test(input.trim()) || input.trim().endsWith("/")) {
    return bad(`"${input}" must be scheme://host[:port] with no path, query or credentials`);
  }
  if (host.startsWith("[") || IPV4.test(host)) return bad(`"${input}" must not use an IP address`);
  if (hostMatchesRpId(host, rpId)) return { ok: true, value: url.origin };
  // A related origin: browsers fetch https://{rpId}/.well-known/webauthn, which a localhost RP ID cannot serve.
  if (rpId === "" || isLocalhost(rpId)) {
    return bad(`the host of "${input}" must be ${rpId || "the RP ID"} or a subdomain of it (a localhost RP ID has no related origins)`);
  }
  if (url.protocol !== "https:") return bad(`"${input}" is not on ${rpId}: an origin on another domain must use https`);
  if (isLocalhost(host) || !checkRpId(host).ok) return bad(`"${input}" is not on ${rpId}: an origin on another domain needs a domain name`);
  return { ok: true, value: url.origin };
}

/** The browsers' limit on distinct registrable-domain labels in a `/.well-known/webauthn` list (WebAuthn L3 §5.11.1). */
export const RELATED_LABELS_MAX = 5;

/**
 * An upper bound on the registrable-domain labels browsers count for these related origins: without the public suffix
 * list we cannot tell that shop.example.co.uk and example.co.uk share the label "example", so every host counts as
 * its own label, except that `www.{host}` counts with `{host}` (both have the same label, or the bare host is a public
 * suffix that browsers skip). It may count more labels than a browser does, never fewer: a list it accepts is never
 * cut short by the browser.
 */
export function relatedLabelCount(origins: readonly string[], rpId: string): number {
  const keys = new Set<string>();
  for (const o of origins) {
    const host = new URL(o).hostname;
    if (!hostMatchesRpId(host, rpId)) keys.add(host.replace(/^www\./, ""));
  }
  return keys.size;
}

/**
 * The configured origins that are not on the RP ID's domain: what `/.well-known/webauthn` of the RP ID lists. Stored
 * origins passed checkOrigin; one that does not parse (a row written around the API) is left out, not an error.
 */
export function relatedOrigins(origins: readonly string[], rpId: string): string[] {
  return origins.filter((o) => {
    const host = hostOf(o);
    return host !== null && !hostMatchesRpId(host, rpId);
  });
}

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).hostname;
  } catch {
    return null;
  }
}
