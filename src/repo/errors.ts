/** Recognises constraint violations in D1 errors (drizzle wraps them; the message sits in the cause chain). */
export function isUniqueViolation(err: unknown, table?: string): boolean {
  for (let e: unknown = err, d = 0; e instanceof Error && d < 5; e = e.cause, d++) {
    if (/UNIQUE constraint failed|PRIMARY KEY/i.test(e.message) && (!table || e.message.includes(`${table}.`))) return true;
  }
  return false;
}
