import type { Env } from "../env";
import { logWarn } from "../lib/log";
import { acceptSnapshot } from "./snapshot-cache";
import type { PoolSnapshot } from "./types";

/** Glue for the admin routes: talk to a pool's DO and keep this isolate's cached snapshot current. */

export const poolStub = (env: Env, provider: string) => env.PROVIDER_POOL.getByName(provider);

/**
 * Tells the pool to re-read D1 after an admin write. A failure is logged, not thrown: D1 (the
 * catalogue) already holds the change and the DO re-reads it by itself within minutes, while
 * failing the admin call would invite a retry that duplicates the write.
 */
export async function reloadPool(env: Env, provider: string): Promise<PoolSnapshot | null> {
  try {
    return acceptSnapshot(await poolStub(env, provider).reload());
  } catch (err) {
    logWarn("provider pool: reload after admin change failed", { provider, error: String(err) });
    return null;
  }
}

export async function poolSnapshot(env: Env, provider: string): Promise<PoolSnapshot> {
  return acceptSnapshot(await poolStub(env, provider).snapshot());
}

/** Re-enables a key (healthy, cooldown cleared). Reloads first if the pool has not seen the key yet. */
export async function enableKey(env: Env, provider: string, keyId: string): Promise<PoolSnapshot> {
  let snapshot = await poolStub(env, provider).enable(keyId);
  if (!snapshot.keys.some((k) => k.id === keyId)) {
    // The reload after the key was added failed: catch up with D1, then enable.
    await reloadPool(env, provider);
    snapshot = await poolStub(env, provider).enable(keyId);
  }
  return acceptSnapshot(snapshot);
}
