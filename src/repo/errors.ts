/** Recognises D1 and KV errors by their messages (drizzle wraps them: the message sits somewhere in the cause chain). */

/** The messages of an error and its causes, outermost first, at most five deep. */
function messages(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) out.push(e.message);
  return out;
}

/** A UNIQUE or PRIMARY KEY violation, optionally of one table. */
export function isUniqueViolation(err: unknown, table?: string): boolean {
  return messages(err).some((m) => /UNIQUE constraint failed|PRIMARY KEY/i.test(m) && (!table || m.includes(`${table}.`)));
}

/**
 * A transient storage failure (D1/KV unavailable, overloaded, timed out, reset): the error handler answers 503 with
 * Retry-After. Anything else from storage (a SQL error) is a bug and stays a 500.
 */
const TRANSIENT =
  /network connection lost|overloaded|transient|timed? ?out|exceeded|object to be reset|unavailable|internal error in D1|KV (GET|PUT|DELETE) failed/i;

export function isStorageFailure(err: unknown): boolean {
  return messages(err).some((m) => TRANSIENT.test(m));
}
