/** Small, dependency-free statistics over latency samples (milliseconds). */

/** Nearest-rank percentile (p in 0..100) of unsorted samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = Float64Array.from(samples).sort();
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(samples: readonly number[]): Summary {
  let sum = 0;
  for (const s of samples) sum += s;
  return { n: samples.length, p50: percentile(samples, 50), p99: percentile(samples, 99), mean: samples.length ? sum / samples.length : NaN };
}

/** Rounds for reports: 2 decimals below 10, 1 below 100, else whole numbers. */
export function round(value: number): number {
  if (!Number.isFinite(value)) return value;
  const abs = Math.abs(value);
  const digits = abs < 10 ? 2 : abs < 100 ? 1 : 0;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
