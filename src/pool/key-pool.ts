import type { Env } from "../env";
import { GatewayError } from "../errors";
import { logWarn, registerSecret } from "../lib/log";
import { VaultError } from "../vault/errors";
import { Vault } from "../vault/vault";
import { cooldownMs } from "./cooldown";
import { acceptSnapshot, cachedSnapshot, getSnapshot, patchSnapshot } from "./snapshot-cache";
import { effectiveStatus, envKeyOf, type PoolKey, type PoolSnapshot } from "./types";

/**
 * The proxy's view of a provider key pool. Intended use (the rotation loop):
 *
 *   const keys = await candidateKeys(env, provider, waitUntil);
 *   for (const key of keys) {
 *     … call upstream with key.apiKey …
 *     rate limited → await reportRateLimited(env, provider, key.id, retryAfterMs); continue
 *     auth failure → await reportAuthFailure(env, provider, key.id); continue
 *   }
 *   throw keys.exhaustedError();
 *
 * Iterating re-checks every key against the live cached snapshot, so after a 429 the other keys
 * of the same scope (cooled by the report) are skipped, not tried.
 */

export interface Candidate {
  id: string;
  name: string | null;
  scope: string | null;
  last4: string;
  /** The decrypted provider key: for the outbound request headers only, never logged or returned. */
  apiKey: string;
}

const poolStub = (env: Env, provider: string) => env.PROVIDER_POOL.getByName(provider);

/** Round-robin start per provider, so consecutive requests start on different keys. */
const cursors = new Map<string, number>();

/**
 * Decrypted keys per isolate. Keyed by provider, id AND ciphertext: keyed by ciphertext alone, a
 * ciphertext copied to another row would be served from cache without the AAD check.
 */
const DECRYPT_CACHE_MAX = 512;
const decrypted = new Map<string, Promise<string>>();

function decryptCached(env: Env, provider: string, key: PoolKey & { ciphertext: string }): Promise<string> {
  const cacheKey = `${provider}\0${key.id}\0${key.ciphertext}`;
  let pending = decrypted.get(cacheKey);
  if (!pending) {
    // Rewraps leave old entries behind; a simple full reset bounds memory without an LRU.
    if (decrypted.size >= DECRYPT_CACHE_MAX) decrypted.clear();
    pending = Vault.fromEnv(env).decrypt(key.ciphertext, { provider, id: key.id });
    pending.catch(() => decrypted.delete(cacheKey));
    decrypted.set(cacheKey, pending);
  }
  return pending;
}

/**
 * Drops a deleted key's plaintext from this isolate's cache. Other isolates stop using the key when
 * their snapshot refreshes; its plaintext leaves their memory with the cache reset or the isolate.
 */
export function forgetDecrypted(provider: string, keyId: string): void {
  const prefix = `${provider}\0${keyId}\0`;
  for (const cacheKey of decrypted.keys()) if (cacheKey.startsWith(prefix)) decrypted.delete(cacheKey);
}

/** The usable secret of a pool key, or null (logged without any secret) when it cannot be had. */
async function secretOf(env: Env, provider: string, key: PoolKey): Promise<string | null> {
  try {
    const secret = key.ciphertext === null ? envKeyOf(env, provider) : await decryptCached(env, provider, { ...key, ciphertext: key.ciphertext });
    // Belt and braces: should a secret ever reach a log line, the logger redacts it.
    registerSecret(secret);
    return secret;
  } catch (err) {
    const reason = err instanceof VaultError ? err.code : "error";
    logWarn("provider pool: key skipped, decryption failed", { provider, key_id: key.id, reason });
    return null;
  }
}

function usableNow(provider: string, keyId: string): boolean {
  const key = cachedSnapshot(provider)?.keys.find((k) => k.id === keyId);
  return key !== undefined && effectiveStatus(key, Date.now()) === "healthy";
}

/** Milliseconds until some key of the pool is usable: 0 if one is now; null if none ever will be by time. */
export function earliestRecoveryMs(provider: string, now = Date.now()): number | null {
  let best: number | null = null;
  for (const key of cachedSnapshot(provider)?.keys ?? []) {
    const status = effectiveStatus(key, now);
    if (status === "disabled") continue;
    const wait = status === "healthy" ? 0 : key.cooldownUntil! - now;
    best = best === null ? wait : Math.min(best, wait);
  }
  return best;
}

export class KeyRotation implements Iterable<Candidate> {
  constructor(
    readonly provider: string,
    /** Healthy keys at pick time, in rotation order. */
    readonly candidates: readonly Candidate[],
    /** The pool has at least one key in any state (false: no key was ever added or set). */
    readonly configured: boolean,
  ) {}

  *[Symbol.iterator](): Iterator<Candidate> {
    for (const candidate of this.candidates) {
      if (usableNow(this.provider, candidate.id)) yield candidate;
    }
  }

  /** Milliseconds until a key recovers from its cooldown; null when none will by time alone. */
  earliestRecoveryMs(): number | null {
    return earliestRecoveryMs(this.provider);
  }

  /**
   * The error once every candidate failed: 429 `provider_rate_limited` with Retry-After = earliest
   * recovery while a key is cooling down; 502 when no key can recover by waiting (none configured,
   * all disabled, or undecryptable). The message names the provider only.
   */
  exhaustedError(): GatewayError {
    const wait = this.earliestRecoveryMs();
    if (wait !== null) {
      return new GatewayError("provider_rate_limited", `Every ${this.provider} key is rate limited; retry later.`, {
        retryAfterSeconds: Math.max(1, Math.ceil(wait / 1000)),
      });
    }
    return new GatewayError("upstream_error", `No usable ${this.provider} provider key is configured.`, {
      detail: `provider pool '${this.provider}' has no healthy or cooling key`,
    });
  }
}

/**
 * The provider's healthy keys in rotation order, decrypted (cached per isolate). No Durable
 * Object round trip while the cached snapshot is fresh (see snapshot-cache.ts).
 */
export async function candidateKeys(env: Env, provider: string, waitUntil?: (p: Promise<unknown>) => void): Promise<KeyRotation> {
  const snapshot = await getSnapshot(provider, () => poolStub(env, provider).snapshot(), waitUntil);
  const now = Date.now();
  const healthy = snapshot.keys.filter((k) => effectiveStatus(k, now) === "healthy");
  const cursor = cursors.get(provider) ?? 0;
  cursors.set(provider, (cursor + 1) % 1_000_000);
  const start = healthy.length === 0 ? 0 : cursor % healthy.length;
  const ordered = [...healthy.slice(start), ...healthy.slice(0, start)];
  const secrets = await Promise.all(ordered.map((k) => secretOf(env, provider, k)));
  const candidates = ordered.flatMap((k, i): Candidate[] => {
    const apiKey = secrets[i];
    return apiKey ? [{ id: k.id, name: k.name, scope: k.scope, last4: k.last4, apiKey }] : [];
  });
  return new KeyRotation(provider, candidates, snapshot.keys.length > 0);
}

/** Local fallback when the DO is unreachable: cool the scope in this isolate's snapshot only. */
function coolLocally(snapshot: PoolSnapshot, keyId: string, until: number | "disabled"): PoolSnapshot {
  const key = snapshot.keys.find((k) => k.id === keyId);
  if (!key) return snapshot;
  const hit = (k: PoolKey) => (until === "disabled" || key.scope === null ? k.id === key.id : k.scope === key.scope);
  const keys = snapshot.keys.map((k): PoolKey => {
    if (!hit(k)) return k;
    if (until === "disabled") return { ...k, status: "disabled" };
    return { ...k, status: k.status === "disabled" ? "disabled" : "cooling_down", cooldownUntil: Math.max(k.cooldownUntil ?? 0, until) };
  });
  return { ...snapshot, keys };
}

async function report(provider: string, keyId: string, call: () => Promise<PoolSnapshot>, local: number | "disabled"): Promise<void> {
  try {
    acceptSnapshot(await call());
  } catch (err) {
    logWarn("provider pool: report failed, applied locally", { provider, key_id: keyId, error: String(err) });
    patchSnapshot(provider, (s) => coolLocally(s, keyId, local));
  }
}

/** A retryable 429 on `keyId`: its whole scope cools down (60 s when `retryAfterMs` is null). */
export function reportRateLimited(env: Env, provider: string, keyId: string, retryAfterMs: number | null): Promise<void> {
  const localUntil = Date.now() + cooldownMs(retryAfterMs);
  return report(provider, keyId, () => poolStub(env, provider).reportRateLimited(keyId, retryAfterMs), localUntil);
}

/** A 401/403 on `keyId`: the key is disabled until an admin re-enables it. */
export function reportAuthFailure(env: Env, provider: string, keyId: string): Promise<void> {
  return report(provider, keyId, () => poolStub(env, provider).disable(keyId), "disabled");
}
