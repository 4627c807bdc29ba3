/**
 * Generic cell rate algorithm: `limit` units per `periodMs`, bursts up to the full limit.
 * State is one number, the theoretical arrival time (TAT). Pure; times are unix ms.
 */

export interface GcraDecision {
  allowed: boolean;
  /** The TAT to store if the request is admitted. */
  tat: number;
  /** Whole units still available right after this decision. */
  remaining: number;
  /** Ms until the bucket is full again. */
  resetMs: number;
  /** Ms until this request would be allowed (0 when allowed). */
  retryAfterMs: number;
}

// Floating-point slack so that exactly `limit` units fit in one period despite rounding.
const EPSILON_MS = 1e-6;

export function gcra(tat: number, now: number, limit: number, cost: number, periodMs = 60_000): GcraDecision {
  const interval = periodMs / limit;
  const start = Math.max(tat, now);
  const next = start + cost * interval;
  const allowed = next - now <= periodMs + EPSILON_MS;
  const effective = allowed ? next : start;
  return {
    allowed,
    tat: effective,
    remaining: Math.max(0, Math.floor((periodMs - (effective - now) + EPSILON_MS) / interval)),
    resetMs: Math.max(0, Math.ceil(effective - now)),
    retryAfterMs: allowed ? 0 : Math.max(0, Math.ceil(next - periodMs - now)),
  };
}

/** Give back units that were charged but not used (a TPM reservation larger than the real usage). */
export function gcraRefund(tat: number, now: number, limit: number, units: number, periodMs = 60_000): number {
  return Math.max(now, tat - units * (periodMs / limit));
}

/** Go-style duration, as OpenAI's `x-ratelimit-reset-*` headers use: `12ms`, `1s`, `6m0s`. */
export function formatResetDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const totalSeconds = Math.ceil(ms / 1000);
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = totalSeconds % 60;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}
