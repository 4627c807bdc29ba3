import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { providerKeys } from "../db/schema";
import { ENV_KEY_VARS, envKeyId, envKeyOf, type PoolKey } from "./types";

/** A pool member as the catalogue knows it, before health is applied. */
export type CatalogueKey = Omit<PoolKey, "status" | "cooldownUntil">;

/** The environment key of a built-in provider as a pool member (scope `env`, no ciphertext). */
export function envCatalogueKey(env: Cloudflare.Env, provider: string): CatalogueKey | null {
  const value = envKeyOf(env, provider);
  if (value === null) return null;
  const variable = ENV_KEY_VARS[provider as keyof typeof ENV_KEY_VARS];
  return { id: envKeyId(provider), name: variable, scope: "env", ciphertext: null, last4: value.slice(-4), source: "env", createdAt: null };
}

/**
 * Every key of one provider: D1 vault rows (oldest first, a stable order for round-robin), then
 * the environment key if set. The only D1 read of the pool; it runs in the Durable Object.
 */
export async function loadCatalogueKeys(env: Cloudflare.Env, provider: string): Promise<CatalogueKey[]> {
  const rows = await drizzle(env.DB)
    .select()
    .from(providerKeys)
    .where(eq(providerKeys.provider, provider))
    .orderBy(asc(providerKeys.createdAt), asc(providerKeys.id))
    .all();
  const keys: CatalogueKey[] = rows.map((r) => ({
    id: r.id,
    name: r.name,
    scope: r.scope,
    ciphertext: r.ciphertext,
    last4: r.last4,
    source: "vault",
    createdAt: r.createdAt,
  }));
  const envKey = envCatalogueKey(env, provider);
  return envKey ? [...keys, envKey] : keys;
}
