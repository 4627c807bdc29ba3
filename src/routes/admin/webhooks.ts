import { asc, eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import { Hono } from "hono";
import * as z from "zod";
import { webhookDeliveries, webhooks } from "../../db/schema";
import type { AppEnv, Env } from "../../env";
import { GatewayError } from "../../errors";
import { toHex } from "../../lib/bytes";
import { readBody } from "../../lib/request-body";
import { checkUpstreamBaseUrl } from "../../security/upstream-url";
import { requireVault } from "../../vault/require-vault";
import { webhookEventType } from "../../webhooks/events";
import { generateWebhookSecret } from "../../webhooks/signature";
import { type DeliveryRow, findWebhook, recentDeliveries, secretAad, type WebhookRow } from "../../webhooks/store";

/**
 * Alert webhooks: create (the `whsec_` signing secret is returned only here, and stored only as
 * vault ciphertext), list, read with recent deliveries, change url/events/enabled, delete. URLs
 * pass the same SSRF guard as custom providers. Delivery: durable-objects/webhook-dispatcher.ts.
 */
export const webhooksRoutes = new Hono<AppEnv>();

/** Deliveries shown with a webhook (newest first). */
const RECENT_DELIVERIES = 50;

const events = z
  .array(webhookEventType)
  .min(1)
  .max(16)
  .refine((e) => new Set(e).size === e.length, "must not repeat an event type");
export const createWebhookInput = z.strictObject({ url: z.string().max(2048), events });
export const patchWebhookInput = z
  .strictObject({ url: z.string().max(2048).optional(), events: events.optional(), enabled: z.boolean().optional() })
  .refine((p) => p.url !== undefined || p.events !== undefined || p.enabled !== undefined, "send at least one of url, events, enabled");

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Never includes the secret, nor its ciphertext. */
function webhookView(w: WebhookRow) {
  return { id: w.id, object: "webhook" as const, url: w.url, events: w.events, enabled: w.enabled, created_at: iso(w.createdAt), updated_at: iso(w.updatedAt) };
}

/** Delivery state only: the receiver's response body is never stored. */
function deliveryView(d: DeliveryRow) {
  return {
    id: d.id,
    object: "webhook_delivery" as const,
    event_type: d.eventType,
    state: d.state,
    attempts: d.attempts,
    last_status: d.lastStatus,
    last_error: d.lastError,
    next_attempt_at: iso(d.nextAttemptAt),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

function checkedUrl(env: Env, url: string): string {
  const checked = checkUpstreamBaseUrl(url, { allowInsecure: env.ALLOW_INSECURE_UPSTREAMS === "on" });
  if (!checked.ok) throw new GatewayError("invalid_request", `Invalid 'url': ${checked.reason}.`, { param: "url" });
  // The URL as given (minus a trailing slash the guard drops): receivers often route on exact paths.
  return checked.url;
}

async function mustFind(env: Env, id: string): Promise<WebhookRow> {
  const row = id.length <= 64 ? await findWebhook(env.DB, id) : undefined;
  if (!row) throw new GatewayError("not_found", `No webhook with id '${id.slice(0, 64)}'.`);
  return row;
}

webhooksRoutes.post("/", async (c) => {
  const input = await readBody(c, createWebhookInput);
  const url = checkedUrl(c.env, input.url);
  const id = `wh_${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const secret = generateWebhookSecret();
  const secretCiphertext = await requireVault(c.env).encrypt(secret, secretAad(id));
  const now = Date.now();
  const row: WebhookRow = { id, url, events: input.events, enabled: true, secretCiphertext, createdAt: now, updatedAt: now };
  await drizzle(c.env.DB).insert(webhooks).values(row);
  return c.json({ ...webhookView(row), secret }, 201);
});

webhooksRoutes.get("/", async (c) => {
  const rows = await drizzle(c.env.DB).select().from(webhooks).orderBy(asc(webhooks.createdAt), asc(webhooks.id)).all();
  return c.json({ object: "list", data: rows.map(webhookView) });
});

webhooksRoutes.get("/:id", async (c) => {
  const row = await mustFind(c.env, c.req.param("id"));
  const deliveries = await recentDeliveries(c.env.DB, row.id, RECENT_DELIVERIES);
  return c.json({ ...webhookView(row), deliveries: deliveries.map(deliveryView) });
});

webhooksRoutes.patch("/:id", async (c) => {
  const row = await mustFind(c.env, c.req.param("id"));
  const input = await readBody(c, patchWebhookInput);
  const changes: Partial<WebhookRow> = { updatedAt: Date.now() };
  if (input.url !== undefined) changes.url = checkedUrl(c.env, input.url);
  if (input.events !== undefined) changes.events = input.events;
  if (input.enabled !== undefined) changes.enabled = input.enabled;
  const updated = await drizzle(c.env.DB).update(webhooks).set(changes).where(eq(webhooks.id, row.id)).returning().get();
  if (!updated) throw new GatewayError("not_found", `No webhook with id '${row.id}'.`);
  return c.json(webhookView(updated));
});

webhooksRoutes.delete("/:id", async (c) => {
  const row = await mustFind(c.env, c.req.param("id"));
  // Its pending deliveries go too: the dispatcher would only mark them failed.
  await drizzle(c.env.DB).batch([
    drizzle(c.env.DB).delete(webhookDeliveries).where(eq(webhookDeliveries.webhookId, row.id)),
    drizzle(c.env.DB).delete(webhooks).where(eq(webhooks.id, row.id)),
  ]);
  return c.json({ id: row.id, object: "webhook" as const, deleted: true });
});
