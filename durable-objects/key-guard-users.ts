import {
  WINDOWS,
  type Window,
  type WindowDenial,
  type WindowLimit,
  type WindowTotals,
  windowDenial,
  windowEnd,
  windowKey,
  windowStart,
} from "../src/policy/windows";
import { type KeyGuardStore, OTHER_VALUE, type Reservation } from "./key-guard-store";

/**
 * Per-user limits within a key (issue 16): `per_user_limits` windows that each end user (the
 * request's bounded `user`; requests without one share the bucket '') has on its own, checked in the
 * KeyGuard's synchronous admit like the key's windows — used + reserved + this request's worst case
 * — so concurrent requests of one user cannot pass its limit together, and other users are unaffected.
 *
 * The user id is caller-controlled, so the state is bounded: at most MAX_TRACKED_USERS users per
 * period of the longest limited window; a user beyond them shares the one OTHER_VALUE bucket (and its
 * limit) with every other such user. Per-user totals exist only for the limited windows and are
 * dropped when those windows end (KeyGuardStore.pruneUsers, from the alarm).
 */

export const MAX_TRACKED_USERS = 10_000;

const longest = (limits: readonly WindowLimit[]): Window =>
  limits.reduce<Window>((a, l) => (WINDOWS.indexOf(l.window) > WINDOWS.indexOf(a) ? l.window : a), limits[0]?.window ?? "1h");

/** The bucket a request of `user` is held and charged in: the user, or OTHER_VALUE once MAX_TRACKED_USERS are tracked. */
export function userBucket(
  store: KeyGuardStore,
  reservations: Iterable<Reservation>,
  limits: readonly WindowLimit[],
  user: string | null,
  now: number,
): string {
  const id = user ?? "";
  const period = windowKey(longest(limits), now);
  if (store.userLedger(period, id).requests > 0) return id;
  // Users with a request in flight but nothing charged yet are tracked too.
  const pending = new Set<string>();
  for (const r of reservations) {
    if (r.userBucket != null && store.userLedger(period, r.userBucket).requests === 0) pending.add(r.userBucket);
  }
  if (pending.has(id)) return id;
  return store.userCount(period) + pending.size >= MAX_TRACKED_USERS ? OTHER_VALUE : id;
}

/** The first per-user window this request would pass, or null; the message names the user and the window. */
export function perUserDenial(
  store: KeyGuardStore,
  reservations: Iterable<Reservation>,
  limits: readonly WindowLimit[],
  bucket: string,
  tokens: number,
  costMicros: number,
  now: number,
): WindowDenial | null {
  const held = [...reservations].filter((r) => r.userBucket === bucket);
  const totals = (window: Window): WindowTotals => {
    const used = store.userLedger(windowKey(window, now), bucket);
    const start = windowStart(window, now);
    const end = windowEnd(window, now);
    let { tokens: t, spendMicros, requests } = used;
    for (const r of held) {
      if (r.admittedAt < start || r.admittedAt >= end) continue;
      t += r.tokens;
      spendMicros += r.costMicros;
      requests += 1;
    }
    return { tokens: t, spendMicros, requests };
  };
  return windowDenial(limits, totals, tokens, costMicros, now, scopeOf(bucket));
}

/** Charges a closed reservation in its user's bucket, in each window the key limits per user (at its admission instant). */
export function chargeUser(store: KeyGuardStore, limits: readonly WindowLimit[], reservation: Reservation, tokens: number, costMicros: number): void {
  if (reservation.userBucket == null) return;
  for (const l of limits) store.chargeUser(windowKey(l.window, reservation.admittedAt), reservation.userBucket, tokens, costMicros);
}

/** How the denial names whose limit it is ("The end user "alice"'s daily (1d) limit …"). */
function scopeOf(bucket: string): string {
  if (bucket === "") return "anonymous end user (no user id)";
  if (bucket === OTHER_VALUE) return `shared end user ${JSON.stringify(OTHER_VALUE)} (beyond ${MAX_TRACKED_USERS} tracked users)`;
  return `end user ${JSON.stringify(bucket)}`;
}
