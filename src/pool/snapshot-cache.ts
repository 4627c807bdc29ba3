import { logWarn } from "../lib/log";
import type { PoolSnapshot } from "./types";

/**
 * Per-isolate cache of ProviderPool snapshots, one per provider, so the proxy's happy path makes
 * no Durable Object round trip.
 *
 * Staleness trade-off: a snapshot younger than SNAPSHOT_TTL_MS is used as is; an older one (up to
 * MAX_STALE_MS) is still used while one background refresh runs; only a missing or very old one
 * is awaited. So another isolate's 429 reaches this isolate within about TTL + one RPC under
 * steady traffic. Until then this isolate may send a request to a key that is already cooling:
 * it gets a 429, reports it (the DO never shortens a cooldown, so the report is harmless) and
 * rotates. One extra upstream call now and then is cheaper than a DO round trip per request. Our
 * own reports update this cache at once, so the very next pick here skips the cooled scope.
 */

export const SNAPSHOT_TTL_MS = 5_000;
export const MAX_STALE_MS = 30_000;

interface Entry {
  snapshot: PoolSnapshot;
  /** Local Date.now() when fetched; drives the TTL. */
  fetchedAt: number;
}

const entries = new Map<string, Entry>();
const inflight = new Map<string, Promise<PoolSnapshot>>();

/** Whether `next` is at least as new as `current` (responses of concurrent calls may cross). */
function isNewer(next: PoolSnapshot, current: PoolSnapshot | undefined): boolean {
  if (!current) return true;
  if (next.takenAt !== current.takenAt) return next.takenAt > current.takenAt;
  return next.version >= current.version;
}

/** Stores a snapshot unless a newer one is already cached; returns whichever is current. */
export function acceptSnapshot(snapshot: PoolSnapshot): PoolSnapshot {
  const current = entries.get(snapshot.provider);
  if (!isNewer(snapshot, current?.snapshot)) return current!.snapshot;
  entries.set(snapshot.provider, { snapshot, fetchedAt: Date.now() });
  return snapshot;
}

/** The cached snapshot without any I/O (null when this isolate has none). */
export function cachedSnapshot(provider: string): PoolSnapshot | null {
  return entries.get(provider)?.snapshot ?? null;
}

/** Replaces the cached snapshot in place (a local-only change, e.g. when the DO was unreachable). */
export function patchSnapshot(provider: string, update: (s: PoolSnapshot) => PoolSnapshot): void {
  const entry = entries.get(provider);
  if (entry) entries.set(provider, { ...entry, snapshot: update(entry.snapshot) });
}

function refresh(provider: string, load: () => Promise<PoolSnapshot>): Promise<PoolSnapshot> {
  let pending = inflight.get(provider);
  if (!pending) {
    pending = load()
      .then(acceptSnapshot)
      .finally(() => inflight.delete(provider));
    inflight.set(provider, pending);
  }
  return pending;
}

/**
 * The provider's snapshot, fresh or tolerably stale. If the DO cannot be reached and any older
 * snapshot exists, that one is used rather than failing the request.
 */
export async function getSnapshot(provider: string, load: () => Promise<PoolSnapshot>, waitUntil?: (p: Promise<unknown>) => void): Promise<PoolSnapshot> {
  const entry = entries.get(provider);
  const age = entry ? Date.now() - entry.fetchedAt : Infinity;
  if (entry && age < SNAPSHOT_TTL_MS) return entry.snapshot;
  if (entry && age < MAX_STALE_MS) {
    const background = refresh(provider, load).catch((err: unknown) => {
      logWarn("provider pool: background refresh failed", { provider, error: String(err) });
    });
    waitUntil?.(background);
    return entry.snapshot;
  }
  try {
    return await refresh(provider, load);
  } catch (err) {
    if (!entry) throw err;
    logWarn("provider pool: refresh failed, using an old snapshot", { provider, error: String(err) });
    return entry.snapshot;
  }
}
