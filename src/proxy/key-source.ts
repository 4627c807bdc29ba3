import type { Env } from "../env";
import { GatewayError } from "../errors";
import { candidateKeys, reportAuthFailure, reportRateLimited } from "../pool/key-pool";

/** Where the rotation loop gets provider keys: the provider's pool, or the mock's fixed key. */

export interface KeyCandidate {
  id: string;
  apiKey: string;
}

export interface KeySet extends Iterable<KeyCandidate> {
  /** False when the provider has no key at all (as opposed to all cooling down or disabled). */
  readonly configured: boolean;
  /** The error once every key has failed: 429 with Retry-After while one is cooling down. */
  exhaustedError(): GatewayError;
}

const MOCK_KEYS: KeySet = {
  configured: true,
  *[Symbol.iterator]() {
    yield { id: "mock", apiKey: "mock" };
  },
  exhaustedError: () => new GatewayError("upstream_error", "The mock provider failed."),
};

export function keysFor(env: Env, provider: string, waitUntil?: (p: Promise<unknown>) => void): Promise<KeySet> {
  return provider === "mock" ? Promise.resolve(MOCK_KEYS) : candidateKeys(env, provider, waitUntil);
}

export { reportAuthFailure, reportRateLimited };
