/**
 * src/bundle/zod.ts is what the deployed Worker gets for "zod" (wrangler.toml [alias]); this suite, like the rest of
 * `npm test`, runs on zod itself. So: the stand-in must be zod's namespace, export for export, the same values
 * except the ones it leaves out on purpose (the translations but English, the opt-in compiler, fromJSONSchema).
 */
import * as zod from "zod";
import { describe, expect, it } from "vitest";
import * as lean from "../src/bundle/zod";
import * as leanCore from "../src/bundle/zod-core";

const COMPILER = ["compile", "compileFn", "withParser", "ZodCompileAsyncError", "ZodCompileUnsupportedError", "INVALID"];
const LEFT_OUT = new Set(["locales", "core", "z", "default", "fromJSONSchema", ...COMPILER]);
const leanNs: Record<string, unknown> = lean;
const zodNs: Record<string, unknown> = zod;
const leanCoreNs: Record<string, unknown> = leanCore;
const zodCoreNs: Record<string, unknown> = zod.core;

describe("the bundle's zod (src/bundle/zod.ts)", () => {
  it("exports every name zod exports, and nothing else", () => {
    // The suite compares with zod itself: the alias applies to the deploy bundle only.
    expect(Object.keys(zod.locales).length).toBeGreaterThan(10);
    expect(Object.keys(lean).sort()).toEqual(Object.keys(zod).sort());
    expect(Object.keys(leanCore).sort()).toEqual(Object.keys(zod.core).sort());
  });

  it("is zod, value for value, apart from what it leaves out", () => {
    const differing = Object.keys(zod).filter((k) => !LEFT_OUT.has(k) && leanNs[k] !== zodNs[k]);
    expect(differing).toEqual([]);
    const differingCore = Object.keys(zod.core).filter((k) => !LEFT_OUT.has(k) && leanCoreNs[k] !== zodCoreNs[k]);
    expect(differingCore).toEqual([]);
    expect(lean.z).toBe(lean);
    expect(lean.default).toBe(lean);
    expect(lean.core).toBe(leanCore);
    expect(lean.INVALID).toBe(zod.INVALID);
  });

  it("keeps English, the locale zod configures by default, and answers zod's English messages", () => {
    expect(Object.keys(lean.locales)).toEqual(["en"]);
    expect(lean.locales.en).toBe(zod.locales.en);
    expect(leanCore.locales.en).toBe(zod.core.locales.en);
    const issue = (s: zod.ZodType) => s.safeParse({ a: 1 }).error?.issues[0]?.message;
    expect(issue(lean.object({ a: lean.string() }))).toBe(issue(zod.object({ a: zod.string() })));
    expect(issue(lean.object({ a: lean.string() }))).toBe("Invalid input: expected string, received number");
  });

  it("says so when code calls what it leaves out", () => {
    expect(() => lean.fromJSONSchema({ type: "string" })).toThrow(/not in the Worker bundle/);
    expect(() => lean.compile(lean.string())).toThrow(/not in the Worker bundle/);
    expect(() => leanCore.compileFn(lean.string())).toThrow(/not in the Worker bundle/);
  });
});
