/** A stand-in for a zod export the Worker bundle leaves out (./zod.ts): calling it says so. */
export function omitted(name: string): (...args: unknown[]) => never {
  return () => {
    throw new Error(`zod's ${name} is not in the Worker bundle (src/bundle/zod.ts)`);
  };
}
