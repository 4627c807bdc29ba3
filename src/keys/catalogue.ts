import { and, desc, eq, isNull } from "drizzle-orm";
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

/** Writes the policy fields; `activated_at` is the KeyGuard's to set and is returned fresh. */
export async function updateKeyRecord(db: D1Database, record: KeyRecord): Promise<{ activatedAt: number | null }> {
  const { id, activatedAt: _ignored, ...rest } = record;
  const row = await drizzle(db).update(virtualKeys).set(rest).where(eq(virtualKeys.id, id)).returning({ activatedAt: virtualKeys.activatedAt }).get();
  return { activatedAt: row?.activatedAt ?? null };
}

/**
 * Called by a KeyGuard when it is created, BEFORE it reads the record. With the admin API writing the
 * record BEFORE it reads `activated_at`, every interleaving ends with the object holding the latest
 * policy: either it read the new record, or the admin saw it activated and pushed the record to it.
 */
export async function markActivated(db: D1Database, id: string, now: number): Promise<void> {
  await drizzle(db)
    .update(virtualKeys)
    .set({ activatedAt: now })
    .where(and(eq(virtualKeys.id, id), isNull(virtualKeys.activatedAt)));
}
