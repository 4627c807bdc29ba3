/**
 * Wait before each retry (after the 1st, 2nd, … failed attempt). After the last one fails the
 * delivery is `failed`: 7 attempts over about 7 hours. No jitter: one dispatcher sends everything,
 * so there is no herd of clients to spread out.
 */
export const RETRY_DELAYS_MS = [5_000, 30_000, 2 * 60_000, 10 * 60_000, 60 * 60_000, 6 * 60 * 60_000] as const;
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** When attempt `attempts + 1` is due after `attempts` failures, or null: give up. */
export function nextAttemptAt(attempts: number, now: number): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  return now + RETRY_DELAYS_MS[attempts - 1]!;
}
