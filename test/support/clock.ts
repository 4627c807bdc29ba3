import { env } from "cloudflare:workers";

declare global {
  namespace Cloudflare {
    interface Env {
      /** Milliseconds added to the test clock base (KEYFORGE_TEST_CLOCK_SHIFT_DAYS, see README). */
      TEST_CLOCK_SHIFT_MS?: string;
    }
  }
}

/**
 * The base of every driven clock in the workerd tests: now, moved by KEYFORGE_TEST_CLOCK_SHIFT_DAYS
 * (e.g. 365) to prove that no test depends on today's date. Tests derive every instant from it —
 * never a fixed calendar date.
 */
export function testNow(): number {
  return Date.now() + Number(env.TEST_CLOCK_SHIFT_MS ?? 0);
}

/**
 * The start of the UTC hour, day (any span that divides a day) holding `t`: from one reading of the
 * clock (`testNow() - (testNow() % span)` reads it twice and is 1 ms early when it ticks between).
 */
export function spanStart(spanMs: number, t = testNow()): number {
  return t - (t % spanMs);
}

/** The first instant of the UTC month `months` after the one that holds `t`. */
export function monthStart(t: number, months = 0): number {
  const d = new Date(t);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
}
