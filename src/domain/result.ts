/**
 * The result of a pure policy: policies never throw, the caller decides. A failure names the input field, says what
 * is wrong and may carry a 422 error code (default invalid_configuration); services turn it into an ApiError with
 * orThrow (src/services/pools.ts).
 */
import type { CodeWithStatus } from "../errors";

export type Failure = { ok: false; field: string; message: string; code?: CodeWithStatus<422> };
export type Result<T> = { ok: true; value: T } | Failure;

export const fail = (field: string, message: string): Failure => ({ ok: false, field, message });
