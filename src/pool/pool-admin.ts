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

/**
 * An admin enables (healthy, cooldown cleared) or disables a key. Reloads first if the pool has
 * not seen the key yet (the reload after it was added failed).
 */
export async function setKeyEnabled(env: Env, provider: string, keyId: string, enabled: boolean): Promise<PoolSnapshot> {
  const apply = () => (enabled ? poolStub(env, provider).enable(keyId) : poolStub(env, provider).disable(keyId));
  let snapshot = await apply();
  if (!snapshot.keys.some((k) => k.id === keyId)) {
    await reloadPool(env, provider);
    snapshot = await apply();
  }
  return acceptSnapshot(snapshot);
}
