import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { providerKeys, providers } from "../../db/schema";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { toHex } from "../../lib/bytes";
import { readBody } from "../../lib/request-body";
import { recordChange, recordsOwnEntry } from "../../middleware/control-plane";
import { forgetDecrypted } from "../../pool/key-pool";
import { setKeyEnabled, poolSnapshot, reloadPool } from "../../pool/pool-admin";
import { ENV_KEY_VARS, envKeyId, envKeyOf, type PoolKey, type PoolSnapshot } from "../../pool/types";
import { requireVault } from "../../vault/require-vault";

/**
 * Provider keys: add (stored only as vault ciphertext; the key is never returned), list with live
 * pool status, delete, re-enable. D1 is the catalogue; each change is pushed to the provider's
 * ProviderPool DO with `reload()` so the proxy sees it.
 */
export const providerKeysRoutes = new Hono<AppEnv>();

/** Pool names of the built-in providers that take keys (`google` is Gemini's alias). */
const BUILTIN_KEY_PROVIDERS: Record<string, string> = { openai: "openai", anthropic: "anthropic", gemini: "gemini", google: "gemini" };

const label = z.string().trim().min(1).max(128);
export const createProviderKeyInput = z.strictObject({
  provider: z.string().min(1).max(64),
  // Shape only; the zod messages never echo the value, so a rejected key does not come back.
  key: z
    .string()
    .min(8)
    .max(1024)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces"),
  name: label.nullable().optional(),
  scope: label.nullable().optional(),
});

type Health = Pick<PoolKey, "status" | "cooldownUntil">;
type KeyRow = typeof providerKeys.$inferSelect;

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const HEALTHY: Health = { status: "healthy", cooldownUntil: null };

function keyView(provider: string, key: Omit<PoolKey, "ciphertext" | "status" | "cooldownUntil">, health: Health) {
  return {
    id: key.id,
    object: "provider_key" as const,
    provider,
    name: key.name,
    scope: key.scope,
    last4: key.last4,
    source: key.source,
    status: health.status,
    cooldown_until: iso(health.cooldownUntil),
    created_at: iso(key.createdAt),
  };
}

const rowView = (row: KeyRow, snapshot: PoolSnapshot | null) =>
  keyView(row.provider, { ...row, source: "vault" }, snapshot?.keys.find((k) => k.id === row.id) ?? HEALTHY);

async function resolveProvider(env: Env, requested: string): Promise<string> {
  const builtin = BUILTIN_KEY_PROVIDERS[requested];
  if (builtin) return builtin;
  const custom = await drizzle(env.DB).select({ name: providers.name }).from(providers).where(eq(providers.name, requested)).get();
  if (custom) return custom.name;
  throw new GatewayError("invalid_request", `Unknown provider '${requested}': use openai, anthropic, gemini or a custom provider.`, {
    param: "provider",
  });
}

/** A vault row by id, or the `env-<provider>` key of a built-in provider that has one configured. */
async function findKey(env: Env, id: string): Promise<{ provider: string; row: KeyRow | null }> {
  const envProvider = Object.keys(ENV_KEY_VARS).find((p) => envKeyId(p) === id && envKeyOf(env, p) !== null);
  if (envProvider) return { provider: envProvider, row: null };
  const row = await drizzle(env.DB).select().from(providerKeys).where(eq(providerKeys.id, id)).get();
  if (!row) throw new GatewayError("not_found", `No provider key with id '${id}'.`);
  return { provider: row.provider, row };
}

providerKeysRoutes.post("/", recordsOwnEntry, async (c) => {
  const input = await readBody(c, createProviderKeyInput);
  const provider = await resolveProvider(c.env, input.provider);
  const id = `pk_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const ciphertext = await requireVault(c.env).encrypt(input.key, { provider, id });
  const row: KeyRow = {
    id,
    provider,
    name: input.name ?? null,
    scope: input.scope ?? null,
    ciphertext,
    last4: input.key.slice(-4),
    createdAt: Date.now(),
  };
  // The control-plane entry shows the key by id and last4 only.
  const created = { provider, name: row.name, scope: row.scope, last4: row.last4 };
  await recordChange(c, { action: "provider_key.create", target: `provider_key:${id}`, change: { provider_key: { before: null, after: created } } });
  await drizzle(c.env.DB).insert(providerKeys).values(row);
  return c.json(rowView(row, await reloadPool(c.env, provider)), 201);
});

providerKeysRoutes.get("/", async (c) => {
  const rows = await drizzle(c.env.DB).select().from(providerKeys).orderBy(asc(providerKeys.createdAt), asc(providerKeys.id)).all();
  const withEnvKey = Object.keys(ENV_KEY_VARS).filter((p) => envKeyOf(c.env, p) !== null);
  const pools = [...new Set([...rows.map((r) => r.provider), ...withEnvKey])];
  const snapshots = new Map(await Promise.all(pools.map(async (p) => [p, await poolSnapshot(c.env, p)] as const)));
  const vaultKeys = rows.map((r) => rowView(r, snapshots.get(r.provider) ?? null));
  const envKeys = [...snapshots.values()].flatMap((s) => s.keys.filter((k) => k.source === "env").map((k) => keyView(s.provider, k, k)));
  return c.json({ object: "list", data: [...vaultKeys, ...envKeys] });
});

providerKeysRoutes.delete("/:id", recordsOwnEntry, async (c) => {
  const { provider, row } = await findKey(c.env, c.req.param("id"));
  if (!row) {
    const variable = ENV_KEY_VARS[provider as keyof typeof ENV_KEY_VARS];
    throw new GatewayError("invalid_request", `An environment key is removed by unsetting the ${variable} secret.`);
  }
  const existing = { provider, name: row.name, scope: row.scope, last4: row.last4 };
  await recordChange(c, { action: "provider_key.delete", target: `provider_key:${row.id}`, change: { provider_key: { before: existing, after: null } } });
  await drizzle(c.env.DB).delete(providerKeys).where(eq(providerKeys.id, row.id));
  forgetDecrypted(provider, row.id);
  await reloadPool(c.env, provider);
  return c.json({ id: row.id, object: "provider_key" as const, deleted: true });
});

for (const [action, enabled] of [
  ["enable", true],
  ["disable", false],
] as const) {
  providerKeysRoutes.post(`/:id/${action}`, recordsOwnEntry, async (c) => {
    const { provider, row } = await findKey(c.env, c.req.param("id"));
    const id = row?.id ?? envKeyId(provider);
    // The previous state lives in the pool's snapshot (not read here): `before` is left null.
    await recordChange(c, { action: `provider_key.${action}`, target: `provider_key:${id}`, change: { enabled: { before: null, after: enabled } } });
    const snapshot = await setKeyEnabled(c.env, provider, id, enabled);
    const key = snapshot.keys.find((k) => k.id === id);
    if (row) return c.json(rowView(row, snapshot));
    if (!key) throw new GatewayError("not_found", `No provider key with id '${id}'.`);
    return c.json(keyView(provider, key, key));
  });
}
