/** How long a rate-limited scope cools down; shared by the DO and the Worker's local fallback. */

/** Cooldown when a 429 carries no hint (design: "60 s when none is given"). */
export const DEFAULT_COOLDOWN_MS = 60_000;
/** Floor: a `retry-after: 0` must not turn into a hot retry loop against a limited org. */
export const MIN_COOLDOWN_MS = 1_000;
/** Ceiling: a nonsense hint must not park a key for weeks; daily quotas reset within a day. */
export const MAX_COOLDOWN_MS = 24 * 60 * 60_000;

export function cooldownMs(retryAfterMs: number | null): number {
  if (typeof retryAfterMs !== "number" || !Number.isFinite(retryAfterMs)) return DEFAULT_COOLDOWN_MS;
  return Math.min(MAX_COOLDOWN_MS, Math.max(MIN_COOLDOWN_MS, Math.ceil(retryAfterMs)));
}
