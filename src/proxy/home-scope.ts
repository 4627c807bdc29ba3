import { GatewayError } from "../errors";
import { cachedSnapshot } from "../pool/snapshot-cache";
import { effectiveStatus, type PoolKey } from "../pool/types";
import type { KeyCandidate, KeySet } from "./key-source";

/**
 * Stored state at a provider (OpenAI's stored responses, conversations, prompts) lives in one
 * organisation / project: a pooled key of another one cannot see it. Requests that create or read
 * such state therefore use only the keys of the pool's **home scope**: the scope of its oldest
 * enabled key (the environment key when no key was added). Adding keys never moves it; disabling
 * or deleting the oldest key does. Within the home scope, 429 rotation works as usual; when the
 * whole home scope is cooling down the request waits (429), it never spills into another scope.
 */

/** A key's rate-limit / storage scope: its organisation or project, or the key alone when unknown. */
const scopeOf = (key: { id: string; scope?: string | null }) => key.scope ?? `key:${key.id}`;

function homeKeys(provider: string, now: number): PoolKey[] | null {
  const keys = cachedSnapshot(provider)?.keys.filter((k) => effectiveStatus(k, now) !== "disabled");
  if (!keys || keys.length === 0) return null;
  const home = scopeOf(keys[0]!);
  return keys.filter((k) => scopeOf(k) === home);
}

export function pinToHomeScope(provider: string): (keys: KeySet) => KeySet {
  return (keys) => {
    const home = homeKeys(provider, Date.now());
    // No pool snapshot (the mock provider): nothing to pin to.
    if (home === null) return keys;
    const ids = new Set(home.map((k) => k.id));
    return {
      configured: keys.configured,
      *[Symbol.iterator](): Iterator<KeyCandidate> {
        for (const key of keys) if (ids.has(key.id)) yield key;
      },
      exhaustedError() {
        const now = Date.now();
        const waits = (homeKeys(provider, now) ?? []).map((k) => (k.cooldownUntil ?? now) - now);
        if (waits.length === 0) return keys.exhaustedError();
        return new GatewayError(
          "provider_rate_limited",
          `The ${provider} keys that hold stored responses are rate limited; retry later, or send store: false with the whole conversation to use every key.`,
          { retryAfterSeconds: Math.max(1, Math.ceil(Math.max(0, Math.min(...waits)) / 1000)) },
        );
      },
    };
  };
}
