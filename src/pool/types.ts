/** Plain types exchanged with the ProviderPool Durable Object over RPC. No secrets in any of them. */

export type KeyStatus = "healthy" | "cooling_down" | "disabled";

/** Where a pool key comes from: a vault row in D1, or a `<PROVIDER>_API_KEY` environment secret. */
export type KeySource = "vault" | "env";

export interface PoolKey {
  /** D1 row id, or `env-<provider>` for an environment key. */
  id: string;
  name: string | null;
  /** Rate-limit scope (organisation / project); null means the key is its own scope. */
  scope: string | null;
  /** Vault ciphertext (AAD = provider + id); null for environment keys. */
  ciphertext: string | null;
  last4: string;
  source: KeySource;
  /** Status at `takenAt`; a reader later than that recomputes it with `effectiveStatus`. */
  status: KeyStatus;
  /** Unix ms until which the key cools down; null when it is not cooling down. */
  cooldownUntil: number | null;
  /** Unix ms; null for environment keys. */
  createdAt: number | null;
}

export interface PoolSnapshot {
  provider: string;
  keys: PoolKey[];
  /** Increases with every change of the pool (keys or health); orders snapshots of one pool. */
  version: number;
  /** Unix ms (the DO's clock) when the snapshot was taken. */
  takenAt: number;
}

/** A key's status at `now`: a cooldown ends by time alone, without any write. */
export function effectiveStatus(key: Pick<PoolKey, "status" | "cooldownUntil">, now: number): KeyStatus {
  if (key.status === "disabled") return "disabled";
  return key.cooldownUntil !== null && key.cooldownUntil > now ? "cooling_down" : "healthy";
}

/** Environment variable holding each built-in provider's optional single key. */
export const ENV_KEY_VARS = {
  openai: "OPENAI_API_KEY",
  anthropic: "ANTHROPIC_API_KEY",
  gemini: "GEMINI_API_KEY",
} as const;

export type EnvKeyProvider = keyof typeof ENV_KEY_VARS;

export const envKeyId = (provider: string) => `env-${provider}`;

/** The environment key of a provider, if that provider has one configured. */
export function envKeyOf(env: Partial<Record<(typeof ENV_KEY_VARS)[EnvKeyProvider], string>>, provider: string): string | null {
  const variable = (ENV_KEY_VARS as Record<string, (typeof ENV_KEY_VARS)[EnvKeyProvider] | undefined>)[provider];
  const value = variable === undefined ? undefined : env[variable];
  return value !== undefined && value !== "" ? value : null;
}
