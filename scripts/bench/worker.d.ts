/** The built Worker (`wrangler deploy --dry-run` output) that scripts/bench/counted.ts wraps; placed next to it at bench time. */
declare const worker: ExportedHandler<Cloudflare.Env>;
export default worker;
