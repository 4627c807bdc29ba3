/** Alert thresholds, in percent of a limit. */
export const THRESHOLDS = [50, 80, 100] as const;

/**
 * The thresholds a charge moved usage across: `before < t% of limit <= after`. Usage only grows
 * within a period, so each threshold is crossed at most once per period per limit, with no state
 * to keep. Integer arithmetic (micro-dollars, tokens): no rounding at the boundary. Pure.
 */
export function crossedThresholds(limit: number | null, before: number, after: number): number[] {
  if (limit === null || limit <= 0 || after <= before) return [];
  return THRESHOLDS.filter((t) => before * 100 < t * limit && after * 100 >= t * limit);
}
