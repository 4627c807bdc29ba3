import { and, desc, eq, sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { budgets, virtualKeys } from "../db/schema";
import type { BudgetRecord } from "./types";

/** D1 access for shared budgets: the catalogue behind the admin API and a BudgetGuard's cold start. */

type Row = typeof budgets.$inferSelect;

const toRecord = (row: Row): BudgetRecord => ({ ...row });

export async function loadBudget(db: D1Database, id: string): Promise<BudgetRecord | null> {
  const row = await drizzle(db).select().from(budgets).where(eq(budgets.id, id)).get();
  return row ? toRecord(row) : null;
}

export async function listBudgets(db: D1Database): Promise<BudgetRecord[]> {
  return (await drizzle(db).select().from(budgets).orderBy(desc(budgets.createdAt)).all()).map(toRecord);
}

export async function insertBudget(db: D1Database, record: BudgetRecord): Promise<void> {
  await drizzle(db).insert(budgets).values(record);
}

/** Compare-and-swap on `version` (any version when `expected` is null); null when nothing matched. */
export async function updateBudget(
  db: D1Database,
  id: string,
  changes: Partial<Pick<BudgetRecord, "name" | "limits">>,
  expected: number | null,
  now: number,
): Promise<BudgetRecord | null> {
  const match = expected === null ? eq(budgets.id, id) : and(eq(budgets.id, id), eq(budgets.version, expected));
  const row = await drizzle(db)
    .update(budgets)
    .set({ ...changes, updatedAt: now, version: sql`${budgets.version} + 1` })
    .where(match)
    .returning()
    .get();
  return row ? toRecord(row) : null;
}

/**
 * Deletes the budget only if no key names it, in one statement (so a key cannot join between a
 * check and the delete): "deleted", "not_found", or "in_use".
 */
export async function deleteUnusedBudget(db: D1Database, id: string): Promise<"deleted" | "not_found" | "in_use"> {
  const deleted = await db
    .prepare(`DELETE FROM budgets WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM virtual_keys WHERE budget_id = ?1) RETURNING id`)
    .bind(id)
    .first<{ id: string }>();
  if (deleted) return "deleted";
  return (await loadBudget(db, id)) ? "in_use" : "not_found";
}

/** Ids and names of the keys that draw on a budget. */
export async function budgetMembers(db: D1Database, id: string): Promise<{ id: string; name: string }[]> {
  return drizzle(db).select({ id: virtualKeys.id, name: virtualKeys.name }).from(virtualKeys).where(eq(virtualKeys.budgetId, id)).all();
}
