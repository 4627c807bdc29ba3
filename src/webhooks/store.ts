import { and, asc, desc, eq, inArray, lte, min } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { webhookDeliveries, webhooks } from "../db/schema";
import { toHex } from "../lib/bytes";
import type { WebhookEvent } from "./events";

/** D1 access for webhooks and their deliveries (the admin API and the WebhookDispatcher DO). */

export type WebhookRow = typeof webhooks.$inferSelect;
export type DeliveryRow = typeof webhookDeliveries.$inferSelect;

/** The vault row a webhook secret's ciphertext is bound to (AAD), so it cannot be moved to another row. */
export const secretAad = (id: string) => ({ provider: "webhook", id });

/** Deliveries sent per alarm run; the rest follow in the next run, straight after. */
export const DELIVERY_BATCH = 25;

export function findWebhook(db: D1Database, id: string): Promise<WebhookRow | undefined> {
  return drizzle(db).select().from(webhooks).where(eq(webhooks.id, id)).get();
}

export function recentDeliveries(db: D1Database, webhookId: string, limit: number): Promise<DeliveryRow[]> {
  return drizzle(db)
    .select()
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.webhookId, webhookId))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(limit)
    .all();
}

/** One pending delivery per enabled webhook subscribed to the event; returns how many. */
export async function enqueueDeliveries(db: D1Database, event: WebhookEvent, now: number): Promise<number> {
  const hooks = await drizzle(db).select({ id: webhooks.id, events: webhooks.events }).from(webhooks).where(eq(webhooks.enabled, true)).all();
  const subscribed = hooks.filter((h) => h.events.includes(event.type));
  if (subscribed.length === 0) return 0;
  const payload = JSON.stringify(event);
  const rows = subscribed.map((h) => ({
    id: `msg_${toHex(crypto.getRandomValues(new Uint8Array(16)))}`,
    webhookId: h.id,
    eventType: event.type,
    payload,
    state: "pending",
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
    updatedAt: now,
  }));
  await drizzle(db).insert(webhookDeliveries).values(rows);
  return rows.length;
}

export function dueDeliveries(db: D1Database, now: number): Promise<DeliveryRow[]> {
  return drizzle(db)
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.state, "pending"), lte(webhookDeliveries.nextAttemptAt, now)))
    .orderBy(asc(webhookDeliveries.nextAttemptAt))
    .limit(DELIVERY_BATCH)
    .all();
}

export async function nextDueAt(db: D1Database): Promise<number | null> {
  const row = await drizzle(db)
    .select({ at: min(webhookDeliveries.nextAttemptAt) })
    .from(webhookDeliveries)
    .where(eq(webhookDeliveries.state, "pending"))
    .get();
  return row?.at ?? null;
}

export function webhooksByIds(db: D1Database, ids: string[]): Promise<WebhookRow[]> {
  if (ids.length === 0) return Promise.resolve([]);
  return drizzle(db).select().from(webhooks).where(inArray(webhooks.id, ids)).all();
}

export async function updateDelivery(db: D1Database, id: string, changes: Partial<DeliveryRow>): Promise<void> {
  await drizzle(db).update(webhookDeliveries).set(changes).where(eq(webhookDeliveries.id, id));
}
