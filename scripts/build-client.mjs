#!/usr/bin/env node
// Bundles the browser code (src/client/*.ts(x): hono/jsx/dom components and @simplewebauthn/browser) into
// public/assets/js/, one bundle per page, no CDN, and prints each bundle's size (raw and gzip).
import { build } from "esbuild";
import { readdirSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

// CLIENT_ENTRIES=signin,account builds only those bundles (default: every src/client/*.ts(x)).
const only = process.env.CLIENT_ENTRIES?.split(",").map((s) => s.trim());
const entryPoints = readdirSync("src/client")
  .filter((f) => /\.tsx?$/.test(f) && (!only || only.includes(f.replace(/\.tsx?$/, ""))))
  .map((f) => `src/client/${f}`);
const result = await build({
  entryPoints,
  outdir: "public/assets/js",
  bundle: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "hono/jsx/dom",
  // The browser runtime: without this esbuild reads tsconfig.json, whose jsxImportSource is the server's hono/jsx.
  tsconfig: "tsconfig.client.json",
  minify: true,
  sourcemap: false,
  metafile: true,
  logLevel: "warning",
});
console.log(`built ${entryPoints.length} browser bundle(s) into public/assets/js/:`);
for (const file of Object.keys(result.metafile.outputs).sort()) {
  const bytes = readFileSync(file);
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(
    `  ${file.replace("public/assets/js/", "").padEnd(12)} ${kib(bytes.length).padStart(9)}  (gzip ${kib(gzipSync(bytes).length)})`,
  );
}
