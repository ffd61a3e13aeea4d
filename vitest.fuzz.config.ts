/**
 * `npm run fuzz`: the fuzz suites (test/fuzz.test.ts, test/mutations-*.test.ts, test/faults-*.test.ts) with more runs.
 * FUZZ_RUNS (runs per property and random flips per suite, default 400) and FUZZ_SEED (default: random, printed)
 * reach the tests inside workerd through vitest's provide/inject: the tests cannot read process.env there.
 * Example: FUZZ_RUNS=2000 FUZZ_SEED=42 npm run fuzz
 */
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

export default defineConfig(async (configEnv) => {
  const runs = Number(process.env.FUZZ_RUNS ?? 400);
  const seed = process.env.FUZZ_SEED === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(process.env.FUZZ_SEED);
  console.log(`fuzz: FUZZ_RUNS=${runs} FUZZ_SEED=${seed}`);
  const config = mergeConfig(await base(configEnv), { test: { provide: { fuzzRuns: runs, fuzzSeed: seed }, testTimeout: 3_600_000 } });
  // mergeConfig concatenates arrays: set the file list, do not add to it.
  config.test!.include = ["test/fuzz.test.ts", "test/mutations-*.test.ts", "test/faults-*.test.ts"];
  return config;
});
