#!/usr/bin/env node
// Bundles the browser code (src/client/*.ts, with @simplewebauthn/browser) into public/assets/js/ — no CDN.
import { build } from "esbuild";
import { readdirSync } from "node:fs";

// CLIENT_ENTRIES=signin,account builds only those bundles (default: every src/client/*.ts).
const only = process.env.CLIENT_ENTRIES?.split(",").map((s) => `${s.trim()}.ts`);
const entryPoints = readdirSync("src/client")
  .filter((f) => f.endsWith(".ts") && (!only || only.includes(f)))
  .map((f) => `src/client/${f}`);
await build({
  entryPoints,
  outdir: "public/assets/js",
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  logLevel: "warning",
});
console.log(`built ${entryPoints.length} browser bundle(s) into public/assets/js/`);
