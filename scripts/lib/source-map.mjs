// @ts-check
/**
 * A source map's `mappings` (base64 VLQ, source map v3) decoded: per generated line, its segments with absolute values
 * [column, source, line, sourceColumn, name?] (a 1-field segment maps nothing). Used by `npm run size` (bytes per
 * source) and `npm run bench:profile` (sampled frames to their sources); no dependency needed for ~30 lines.
 */
const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/**
 * @param {string} mappings
 * @returns {number[][][]}
 */
export function decodeMappings(mappings) {
  /** @type {number[][][]} */
  const lines = [];
  const state = [0, 0, 0, 0, 0]; // the column restarts on each line; the other fields run on
  for (const text of mappings.split(";")) {
    state[0] = 0;
    /** @type {number[][]} */
    const segs = [];
    for (const seg of text.split(",")) {
      if (!seg) continue;
      /** @type {number[]} */
      const out = [];
      let value = 0;
      let shift = 0;
      for (const ch of seg) {
        const d = B64.indexOf(ch);
        value += (d & 31) << shift;
        if (d & 32) shift += 5;
        else {
          const i = out.length;
          state[i] = (state[i] ?? 0) + (value & 1 ? -(value >> 1) : value >> 1);
          out.push(state[i] ?? 0);
          value = 0;
          shift = 0;
        }
      }
      segs.push(out);
    }
    lines.push(segs);
  }
  return lines;
}
