import { desc, eq } from "drizzle-orm";
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

export async function updateKeyRecord(db: D1Database, record: KeyRecord): Promise<void> {
  const { id, ...rest } = record;
  await drizzle(db).update(virtualKeys).set(rest).where(eq(virtualKeys.id, id));
}
