import { and, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import { providerKeys } from "../../db/schema";
import type { AppEnv } from "../../env";
import { reloadPool } from "../../pool/pool-admin";
import { VaultError } from "../../vault/errors";
import { requireVault } from "../../vault/require-vault";
import { kekVersionOf } from "../../vault/vault";

/**
 * KEK rotation, step 2 of src/vault/README.md: re-encrypt every provider key under the active KEK.
 * Idempotent (rows already under it are left alone) and safe to repeat after a partial failure.
 * Each update is conditional on the old ciphertext, so a row changed or deleted meanwhile is skipped.
 */
export const vaultRoutes = new Hono<AppEnv>();

/** D1 caps statements per batch; stay well below. */
const BATCH_SIZE = 50;

interface Failure {
  id: string;
  provider: string;
  reason: string;
}

vaultRoutes.post("/rewrap", async (c) => {
  const vault = requireVault(c.env);
  const db = drizzle(c.env.DB);
  const rows = await db.select().from(providerKeys).all();
  const failed: Failure[] = [];
  const updates: Array<{ id: string; provider: string; from: string; to: string }> = [];
  for (const row of rows) {
    try {
      const to = await vault.rewrap(row.ciphertext, { provider: row.provider, id: row.id });
      if (to !== row.ciphertext) updates.push({ id: row.id, provider: row.provider, from: row.ciphertext, to });
    } catch (err) {
      // VaultError messages carry no secret; anything else is reported by kind only.
      failed.push({ id: row.id, provider: row.provider, reason: err instanceof VaultError ? err.code : "error" });
    }
  }
  for (let i = 0; i < updates.length; i += BATCH_SIZE) {
    const statements = updates.slice(i, i + BATCH_SIZE).map((u) =>
      db
        .update(providerKeys)
        .set({ ciphertext: u.to })
        .where(and(eq(providerKeys.id, u.id), eq(providerKeys.ciphertext, u.from))),
    );
    await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
  }
  // Pools hold ciphertexts in their snapshots: refresh them, or isolates keep the old (soon undecryptable) ones.
  await Promise.all([...new Set(updates.map((u) => u.provider))].map((p) => reloadPool(c.env, p)));

  const after = await db.select({ ciphertext: providerKeys.ciphertext }).from(providerKeys).all();
  const remaining: Record<string, number> = {};
  for (const { ciphertext } of after) {
    const version = versionOrMalformed(ciphertext);
    remaining[version] = (remaining[version] ?? 0) + 1;
  }
  return c.json({
    active_version: vault.activeVersion,
    total: rows.length,
    rewrapped: updates.length,
    unchanged: rows.length - updates.length - failed.length,
    failed,
    remaining_by_version: remaining,
  });
});

function versionOrMalformed(ciphertext: string): string {
  try {
    return kekVersionOf(ciphertext);
  } catch {
    return "malformed";
  }
}
