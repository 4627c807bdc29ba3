import { DurableObject } from "cloudflare:workers";
import { logWarn } from "../src/lib/log";
import { cooldownMs } from "../src/pool/cooldown";
import { HealthStore, type HealthRow } from "../src/pool/health-store";
import { type CatalogueKey, loadCatalogueKeys } from "../src/pool/pool-keys";
import { effectiveStatus, type PoolKey, type PoolSnapshot } from "../src/pool/types";
import { emitInBackground } from "../src/webhooks/emit";

/** Re-read D1 this often even without `reload()`, so a missed reload heals by itself. */
const CATALOGUE_REFRESH_MS = 5 * 60_000;
/** After a failed D1 read, try again this soon. */
const CATALOGUE_RETRY_MS = 5_000;

/**
 * One per provider (`env.PROVIDER_POOL.getByName(provider)`): the authority on the health of that
 * provider's keys. Keys come from D1 (read on cold start, on `reload()`, and every few minutes);
 * health (cooldowns, disabled) is persisted in the DO's SQLite. Native RPC only; every method
 * returns a fresh snapshot so the caller's cache never needs a second round trip.
 */
export class ProviderPool extends DurableObject<Cloudflare.Env> {
  /** The clock. Tests replace it through `runInDurableObject` to move time without sleeping. */
  now: () => number = () => Date.now();

  private readonly health: HealthStore;
  private catalogue: CatalogueKey[] | null = null;
  private loadedAt = 0;

  constructor(ctx: DurableObjectState, env: Cloudflare.Env) {
    super(ctx, env);
    this.health = new HealthStore(ctx.storage.sql);
  }

  private get provider(): string {
    const name = this.ctx.id.name;
    if (!name) throw new Error("ProviderPool must be addressed by provider name (getByName).");
    return name;
  }

  async snapshot(): Promise<PoolSnapshot> {
    await this.ensureLoaded();
    return this.build();
  }

  /** Re-reads this provider's keys from D1 (after an admin add, delete or rewrap). */
  async reload(): Promise<PoolSnapshot> {
    await this.load(true);
    return this.build();
  }

  /**
   * A 429 on `keyId`: every key of its scope cools down until now + retryAfterMs (60 s when null).
   * An existing later cooldown is kept. An unknown id (deleted meanwhile) changes nothing.
   */
  async reportRateLimited(keyId: string, retryAfterMs: number | null): Promise<PoolSnapshot> {
    await this.ensureLoaded();
    const key = this.find(keyId);
    if (!key) return this.build();
    const now = this.now();
    const until = now + cooldownMs(retryAfterMs);
    const group = key.scope === null ? [key] : this.catalogue!.filter((k) => k.scope === key.scope);
    for (const member of group) {
      const current = this.health.get(member.id);
      this.health.put(member.id, cooled(current, until), now);
      // Alert on the change only: a 429 that extends a running cooldown is not news.
      if (effectiveStatus(current ?? { status: "healthy", cooldownUntil: null }, now) === "healthy") {
        this.alert("provider_key.cooled_down", member, { cooldown_until: new Date(until).toISOString(), retry_after_ms: retryAfterMs });
      }
    }
    this.health.bumpVersion();
    return this.build();
  }

  /**
   * Disabled until an admin enables it again: after the provider refused the key (401/403), or by
   * an admin. Other keys are untouched.
   */
  async disable(keyId: string): Promise<PoolSnapshot> {
    await this.ensureLoaded();
    const key = this.find(keyId);
    if (!key) return this.build();
    const current = this.health.get(key.id);
    this.health.put(key.id, { status: "disabled", cooldownUntil: current?.cooldownUntil ?? null }, this.now());
    this.health.bumpVersion();
    if (current?.status !== "disabled") this.alert("provider_key.disabled", key, {});
    return this.build();
  }

  /** Admin re-enable: healthy now, any cooldown cleared. */
  async enable(keyId: string): Promise<PoolSnapshot> {
    await this.ensureLoaded();
    const key = this.find(keyId);
    if (!key) return this.build();
    this.health.put(key.id, { status: "healthy", cooldownUntil: null }, this.now());
    this.health.bumpVersion();
    return this.build();
  }

  /** A webhook alert about one key, sent after this call returns (never delays the caller). */
  private alert(type: "provider_key.cooled_down" | "provider_key.disabled", key: CatalogueKey, extra: Record<string, unknown>): void {
    const data = { provider: this.provider, provider_key_id: key.id, name: key.name, scope: key.scope, last4: key.last4, ...extra };
    emitInBackground(this.env, (p) => this.ctx.waitUntil(p), type, data, this.now());
  }

  private find(keyId: string): CatalogueKey | undefined {
    if (typeof keyId !== "string") return undefined;
    return this.catalogue!.find((k) => k.id === keyId);
  }

  private build(): PoolSnapshot {
    const now = this.now();
    const health = this.health.all();
    const keys = (this.catalogue ?? []).map((k): PoolKey => {
      const row = health.get(k.id) ?? { status: "healthy", cooldownUntil: null };
      const status = effectiveStatus(row, now);
      // A finished cooldown is reported as none, so readers need not compare times themselves.
      const cooldownUntil = row.cooldownUntil !== null && row.cooldownUntil > now ? row.cooldownUntil : null;
      return { ...k, status, cooldownUntil };
    });
    return { provider: this.provider, keys, version: this.health.version, takenAt: now };
  }

  private async ensureLoaded(): Promise<void> {
    if (this.catalogue === null || this.now() - this.loadedAt >= CATALOGUE_REFRESH_MS) await this.load(false);
  }

  /**
   * Reads D1 with every other call to this object held back (`blockConcurrencyWhile`), so no call
   * sees a half-loaded pool and concurrent cold-start callers share one read. A failure is thrown
   * only after the block: a throw inside it would reset the whole object.
   */
  private async load(force: boolean): Promise<void> {
    const failure = await this.ctx.blockConcurrencyWhile(async (): Promise<unknown> => {
      if (!force && this.catalogue !== null && this.now() - this.loadedAt < CATALOGUE_REFRESH_MS) return null;
      try {
        const keys = await loadCatalogueKeys(this.env, this.provider);
        const changed = JSON.stringify(keys) !== JSON.stringify(this.catalogue);
        this.catalogue = keys;
        this.loadedAt = this.now();
        this.health.retain(keys.map((k) => k.id));
        if (changed) this.health.bumpVersion();
        return null;
      } catch (err) {
        logWarn("provider pool: catalogue read failed", { provider: this.provider, error: String(err) });
        this.loadedAt = this.now() - CATALOGUE_REFRESH_MS + CATALOGUE_RETRY_MS;
        // A periodic refresh keeps serving the last known pool; a cold start or reload() fails.
        return this.catalogue === null || force ? err : null;
      }
    });
    if (failure !== null) throw new Error(`ProviderPool(${this.provider}): could not read provider keys from D1.`, { cause: failure });
  }
}

/** Cooling never shortens a later cooldown and never lifts `disabled`. */
function cooled(current: HealthRow | null, until: number): HealthRow {
  const cooldownUntil = Math.max(current?.cooldownUntil ?? 0, until);
  return { status: current?.status === "disabled" ? "disabled" : "cooling_down", cooldownUntil };
}
