/** Passkey names (pure): 1..64 characters after trimming and NFC; no control or bidirectional-formatting characters. */
import type { Result } from "./result";

// C0/C1 controls, bidi marks (LRM, RLM, ALM), embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
const FORBIDDEN = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
// Unpaired surrogates (ill-formed UTF-16, e.g. JSON "\ud800") are not characters; D1 would store them as U+FFFD, so
// the saved name would differ from the accepted one. With the u flag this class matches only unpaired surrogates.
const LONE_SURROGATE = /[\ud800-\udfff]/u;

/** False for strings with unpaired surrogates (ill-formed UTF-16), which storage would turn into U+FFFD. */
export const isWellFormed = (s: string) => !LONE_SURROGATE.test(s);

export function checkName(input: string): Result<string> {
  if (!isWellFormed(input)) return { ok: false, field: "name", message: "name must be well-formed Unicode text" };
  const name = input.normalize("NFC").trim();
  const length = [...name].length;
  if (length < 1 || length > 64) return { ok: false, field: "name", message: "name must be 1 to 64 characters" };
  if (FORBIDDEN.test(name))
    return { ok: false, field: "name", message: "name must not contain control or bidirectional-override characters" };
  return { ok: true, value: name };
}
