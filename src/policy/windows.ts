import type { DenialCode } from "../keys/types";
import { periodOf } from "./period";

/**
 * Budget windows (issue 16). Windows are CALENDAR windows in UTC, not rolling ones: `1h` is the UTC
 * hour, `1d` the UTC day, `7d` the ISO week (Monday 00:00 UTC to the next Monday), `month` the UTC
 * month (the same ledger as `monthly_token_quota` / `spend_cap_usd`). A calendar window is one
 * counter per window, so the check "used + reserved + this request ≤ limit" is exact and O(1), and
 * Retry-After is simply the time to the window's end. A rolling window would need every charge kept
 * with its timestamp (or buckets, which make it approximate). A request counts in the windows that
 * held the instant it was admitted, also when it settles after the window ended. Pure.
 */

export const WINDOWS = ["1h", "1d", "7d", "month"] as const;
export type Window = (typeof WINDOWS)[number];

export interface WindowLimit {
  window: Window;
  tokens?: number | null;
  usdMicros?: number | null;
  requests?: number | null;
}

export interface WindowTotals {
  tokens: number;
  spendMicros: number;
  requests: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Monday 00:00 UTC of the ISO week holding `t`. */
function weekStart(t: number): number {
  const day = Math.floor(t / DAY) * DAY;
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * DAY;
}

/** The first instant of the window holding `t`. */
export function windowStart(window: Window, t: number): number {
  switch (window) {
    case "1h":
      return t - (t % HOUR);
    case "1d":
      return t - (t % DAY);
    case "7d":
      return weekStart(t);
    case "month": {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
    }
  }
}

/** The first instant after the window holding `t`. */
export function windowEnd(window: Window, t: number): number {
  switch (window) {
    case "1h":
      return windowStart(window, t) + HOUR;
    case "1d":
      return windowStart(window, t) + DAY;
    case "7d":
      return weekStart(t) + 7 * DAY;
    case "month": {
      const d = new Date(t);
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
    }
  }
}

/**
 * The ledger key of the window holding `t`. `month` is the existing monthly period ("2026-12"), so
 * the shorthands and a `month` window share one ledger. Keys of one window kind sort by time.
 */
export function windowKey(window: Window, t: number): string {
  if (window === "month") return periodOf(t);
  const d = new Date(windowStart(window, t));
  const date = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (window === "1h") return `h:${date}T${pad(d.getUTCHours())}`;
  return window === "1d" ? `d:${date}` : `w:${date}`;
}

/** The prefix of a window kind's ledger keys, to prune ended windows ("" for months: kept). */
export function windowPrefix(window: Window): string {
  return window === "1h" ? "h:" : window === "1d" ? "d:" : window === "7d" ? "w:" : "";
}

/** The windows other than `month` that every charge is also counted in (month is the base ledger). */
export const SUB_MONTH_WINDOWS: readonly Window[] = ["1h", "1d", "7d"];

const WINDOW_NAMES: Record<Window, string> = { "1h": "hourly (1h)", "1d": "daily (1d)", "7d": "weekly (7d)", month: "monthly" };

export interface WindowDenial {
  code: DenialCode;
  message: string;
  retryAfterMs?: number;
}

/**
 * The first window limit this request would pass, or null. `totals(window)` is what the window has
 * used plus what is reserved in it (requests counts in-flight requests too). `scope` names whose
 * limit it is in the message ("key", "budget 'team-a'").
 */
export function windowDenial(
  limits: readonly WindowLimit[],
  totals: (window: Window) => WindowTotals,
  tokens: number,
  costMicros: number,
  now: number,
  scope: string,
): WindowDenial | null {
  for (const limit of limits) {
    const t = totals(limit.window);
    const name = WINDOW_NAMES[limit.window];
    if (limit.requests != null && t.requests + 1 > limit.requests) {
      return {
        code: "rate_limit_exceeded",
        message: `The ${scope}'s ${name} limit of ${limit.requests} requests is reached; it resets at ${new Date(windowEnd(limit.window, now)).toISOString()}.`,
        retryAfterMs: Math.max(1, windowEnd(limit.window, now) - now),
      };
    }
    if (limit.tokens != null && t.tokens + tokens > limit.tokens) {
      return { code: "quota_exceeded", message: `This request could exceed the ${scope}'s ${name} token limit (window ${limit.window}).` };
    }
    if (limit.usdMicros != null && t.spendMicros + costMicros > limit.usdMicros) {
      return { code: "spend_cap_exceeded", message: `This request could exceed the ${scope}'s ${name} spend limit (window ${limit.window}).` };
    }
  }
  return null;
}

/** Whether any limit bounds tokens or dollars (a worst case must then be reserved). */
export const boundsTokens = (limits: readonly WindowLimit[]) => limits.some((l) => l.tokens != null || l.usdMicros != null);
export const boundsDollars = (limits: readonly WindowLimit[]) => limits.some((l) => l.usdMicros != null);
