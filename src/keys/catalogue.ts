import { and, desc, eq, sql, type SQL } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { virtualKeys } from "../db/schema";
import type { KeyRecord } from "./types";

/** D1 access for virtual keys: the catalogue behind listings and the cold start of a KeyGuard. */

type Row = typeof virtualKeys.$inferSelect;

function toRecord(row: Row): KeyRecord {
  return {
    id: row.id,
    name: row.name,
    secretHash: row.secretHash,
    last4: row.last4,
    models: row.models,
    monthlyTokenQuota: row.monthlyTokenQuota,
    spendCapMicros: row.spendCapMicros,
    rpm: row.rpm,
    tpm: row.tpm,
    expiresAt: row.expiresAt,
    metadata: row.metadata,
    revokedAt: row.revokedAt,
    activatedAt: row.activatedAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    version: row.version,
    limits: row.limits,
    budgetId: row.budgetId,
    perUserLimits: row.perUserLimits,
    previousSecretHash: row.previousSecretHash,
    previousSecretUntil: row.previousSecretUntil,
    defaultMaxTokens: row.defaultMaxTokens,
    capMode: row.capMode,
  };
}

export async function loadKeyRecord(db: D1Database, id: string): Promise<KeyRecord | null> {
  const row = await drizzle(db).select().from(virtualKeys).where(eq(virtualKeys.id, id)).get();
  return row ? toRecord(row) : null;
}

export async function listKeyRecords(db: D1Database): Promise<KeyRecord[]> {
  const rows = await drizzle(db).select().from(virtualKeys).orderBy(desc(virtualKeys.createdAt)).all();
  return rows.map(toRecord);
}

export async function insertKeyRecord(db: D1Database, record: KeyRecord): Promise<void> {
  await drizzle(db).insert(virtualKeys).values(record);
}

/** The policy columns an admin may change. */
export type KeyChanges = Partial<
  Pick<
    KeyRecord,
    | "name"
    | "models"
    | "monthlyTokenQuota"
    | "spendCapMicros"
    | "rpm"
    | "tpm"
    | "expiresAt"
    | "metadata"
    | "limits"
    | "budgetId"
    | "perUserLimits"
    | "defaultMaxTokens"
    | "capMode"
  >
>;

/**
 * One compare-and-swap statement: writes `set` plus `version + 1`, only if the version is still
 * `expected` (any version when null), and returns the whole row as written — which is what the
 * admin API pushes to the KeyGuard. Null when nothing matched: an unknown id, or a newer version.
 */
async function swap(db: D1Database, id: string, expected: number | null, set: Record<string, unknown>): Promise<KeyRecord | null> {
  const match = expected === null ? eq(virtualKeys.id, id) : and(eq(virtualKeys.id, id), eq(virtualKeys.version, expected));
  const row = await drizzle(db).update(virtualKeys).set(set).where(match).returning().get();
  return row ? toRecord(row) : null;
}

/** A PATCH: only the fields the admin sent are written, so concurrent changes to other fields (or a revoke) survive. */
export function updateKeyRecord(db: D1Database, id: string, changes: KeyChanges, expected: number | null, now: number): Promise<KeyRecord | null> {
  return swap(db, id, expected, { ...changes, updatedAt: now, version: sql`${virtualKeys.version} + 1` });
}

/** A revoke; no other statement ever clears `revoked_at`. Revoking a revoked key changes nothing (same version). */
export function revokeKeyRecord(db: D1Database, id: string, expected: number | null, now: number): Promise<KeyRecord | null> {
  const fresh: SQL = sql`${virtualKeys.revokedAt} is null`;
  return swap(db, id, expected, {
    revokedAt: sql`coalesce(${virtualKeys.revokedAt}, ${now})`,
    updatedAt: sql`case when ${fresh} then ${now} else ${virtualKeys.updatedAt} end`,
    version: sql`${virtualKeys.version} + (case when ${fresh} then 1 else 0 end)`,
  });
}

/**
 * A KeyGuard's cold start, in ONE statement: marks the key activated (if it is not yet) and returns
 * its row; for an unknown id (a forged token) it matches nothing, writes nothing and returns null.
 * Marking and reading in one statement is what keeps an admin change from being lost: the admin API
 * writes the record and reads `activated_at` in one statement too, and D1 runs statements one at a
 * time, so either this read sees the change or that write sees the key activated and pushes it here.
 */
export async function activateKeyRecord(db: D1Database, id: string, now: number): Promise<KeyRecord | null> {
  const row = await drizzle(db)
    .update(virtualKeys)
    .set({ activatedAt: sql`coalesce(${virtualKeys.activatedAt}, ${now})` })
    .where(eq(virtualKeys.id, id))
    .returning()
    .get();
  return row ? toRecord(row) : null;
}

/**
 * A rotation: the new secret's hash replaces the current one, which stays accepted until `until`
 * (unix ms) as the previous secret. Compare-and-swap on `expected` like every admin write.
 */
export function rotateKeyRecord(
  db: D1Database,
  id: string,
  rotation: { secretHash: string; last4: string; previousSecretHash: string; previousSecretUntil: number },
  expected: number,
  now: number,
): Promise<KeyRecord | null> {
  return swap(db, id, expected, { ...rotation, updatedAt: now, version: sql`${virtualKeys.version} + 1` });
}
