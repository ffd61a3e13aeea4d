/**
 * Rows of raw SQL (`SELECT *`) in drizzle's shapes, without drizzle building a query per request: each column's own
 * driver mapping (JSON text, booleans), found once per table.
 */
import { getTableColumns, type InferSelectModel, type Table } from "drizzle-orm";

export function rowMapper<T extends Table>(table: T): (raw: Record<string, unknown>) => InferSelectModel<T> {
  const columns = Object.entries(getTableColumns(table)).map(([key, column]) => [key, column.name, column] as const);
  return (raw) => {
    const row: Record<string, unknown> = {};
    for (const [key, name, column] of columns) {
      const v = raw[name];
      row[key] = v === null || v === undefined ? null : column.mapFromDriverValue(v);
    }
    return row as InferSelectModel<T>;
  };
}

/** The rows of one statement's result, mapped. */
export const mapped = <R>(result: D1Result | undefined, map: (raw: Record<string, unknown>) => R): R[] =>
  ((result?.results ?? []) as Record<string, unknown>[]).map(map);
