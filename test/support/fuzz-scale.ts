import { inject } from "vitest";

declare module "vitest" {
  // Provided by test/support/global-setup.ts (which this project's tsconfig does not include).
  interface ProvidedContext {
    fuzzScale: number;
  }
}

/**
 * FUZZ_SCALE, apart from the fuzz harness (test/support/fuzz.ts re-exports it) so the per-file
 * cleanup hook can use it without loading fast-check and the app into every test file.
 */
const SCALE = inject("fuzzScale");

/** Runs per property, scaled by FUZZ_SCALE. */
export const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/**
 * A time limit at FUZZ_SCALE: quadratic, because in the test pool every Durable Object call gets
 * slower as objects accumulate (one per forged key id: a fresh KeyGuard took 9 ms after 100 of them
 * and ~500 ms after 1,000). The gateway as `npm run dev` and the bench run it has no such growth
 * (5.5 ms per forged request, flat over 2,000): it is the pool's, not KeyForge's.
 */
export const scaledTimeout = (ms: number): number => Math.round(ms * Math.max(1, SCALE) ** 2);
