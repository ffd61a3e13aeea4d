/** zod's `core` namespace for the Worker bundle: see ./zod.ts. */
import en from "zod/v4/locales/en.js";
import { omitted } from "./omitted";

export * from "zod/v4/core";
export const locales = { en };
// zod's opt-in schema compiler (zod/v4/core/compile.js): nothing in the Worker uses it.
export const INVALID = Symbol.for("zod.compile.invalid");
export const compile = omitted("compile");
export const compileFn = omitted("compileFn");
export const withParser = omitted("withParser");
export class ZodCompileAsyncError extends Error {}
export class ZodCompileUnsupportedError extends Error {}
