import type { Env } from "../env";

/** Where the rotation loop gets provider keys, and where it reports what went wrong with them. */

export interface KeyCandidate {
  id: string;
  apiKey: string;
}

export interface KeyChoice {
  /** Healthy keys in the order to try them. */
  keys: KeyCandidate[];
  /** False when the provider has no key at all (as opposed to all cooling down). */
  configured: boolean;
  /** Ms until the earliest cooling key recovers, when none is healthy. */
  retryAfterMs: number | null;
}

const ENV_KEYS: Record<string, keyof Env> = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  gemini: "GEMINI_API_KEY",
};

export async function chooseKeys(env: Env, provider: string): Promise<KeyChoice> {
  if (provider === "mock") return { keys: [{ id: "mock", apiKey: "mock" }], configured: true, retryAfterMs: null };
  const name = ENV_KEYS[provider];
  const apiKey = name ? (env[name] as string | undefined) : undefined;
  return apiKey ? { keys: [{ id: `env-${provider}`, apiKey }], configured: true, retryAfterMs: null } : { keys: [], configured: false, retryAfterMs: null };
}

export async function reportRateLimited(_env: Env, _provider: string, _keyId: string, _retryAfterMs: number | null): Promise<void> {}

export async function reportKeyRefused(_env: Env, _provider: string, _keyId: string): Promise<void> {}
