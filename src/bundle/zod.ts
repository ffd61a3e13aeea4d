/**
 * What the deployed Worker gets for `import ... from "zod"` (wrangler.toml `[alias]`; `npm test` and the types use
 * zod itself). @hono/zod-openapi hands zod's whole namespace to a function (`extendZodWithOpenApi(z)`), so the
 * bundler must keep every export of it, used or not. This is that namespace with three things left out, which
 * nothing in the Worker uses: the error-message translations but English, zod's default (`locales`, also in
 * `core`), the opt-in schema compiler (`compile` and its kin) and `fromJSONSchema`. Calling what is left out throws.
 * Together ~50 KiB gzip of the bundle (`npm run size`); test/zod-bundle.test.ts checks that nothing else differs.
 */
import en from "zod/v4/locales/en.js";
import { omitted } from "./omitted";
import * as core from "./zod-core";

export * from "zod/v4";
export const locales = { en };
export { compile, INVALID, withParser, ZodCompileAsyncError, ZodCompileUnsupportedError } from "./zod-core";
export const fromJSONSchema = omitted("fromJSONSchema");
export { core };
export * as z from "./zod";
export * as default from "./zod";
