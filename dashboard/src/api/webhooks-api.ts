import * as z from "zod/mini";
import type { ApiClient } from "./client";
import { listOf } from "./schemas";

/** The alert-webhook routes (/admin/v1/webhooks) and their response shapes. */

/** Every event type a webhook can subscribe to, with the label the dashboard shows. */
export const WEBHOOK_EVENTS: Array<{ type: string; label: string }> = [
  { type: "limit.threshold_crossed", label: "Limit crossed 50 / 80 / 100 %" },
  { type: "key.revoked", label: "Key revoked" },
  { type: "key.rotated", label: "Key rotated" },
  { type: "key.expired", label: "Key expired" },
  { type: "provider_key.cooled_down", label: "Provider key cooled down" },
  { type: "provider_key.disabled", label: "Provider key disabled" },
  { type: "audit.verification_failed", label: "Audit verification failed" },
];

const iso = z.nullable(z.string());

export const webhookSchema = z.object({
  id: z.string(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  created_at: iso,
  updated_at: iso,
});

export const webhookDeliverySchema = z.object({
  id: z.string(),
  event_type: z.string(),
  state: z.string(),
  attempts: z.number(),
  last_status: z.nullable(z.number()),
  last_error: z.nullable(z.string()),
  next_attempt_at: iso,
  created_at: iso,
});

const createdWebhookSchema = z.extend(webhookSchema, { secret: z.string() });
const webhookDetailSchema = z.extend(webhookSchema, { deliveries: z.array(webhookDeliverySchema) });

export type Webhook = z.infer<typeof webhookSchema>;
export type WebhookDelivery = z.infer<typeof webhookDeliverySchema>;
export type CreatedWebhook = z.infer<typeof createdWebhookSchema>;

const seg = encodeURIComponent;

export function webhooksApi(client: ApiClient) {
  return {
    listWebhooks: async () => (await client.request(listOf(webhookSchema), "GET", "/admin/v1/webhooks")).data,
    getWebhook: (id: string) => client.request(webhookDetailSchema, "GET", `/admin/v1/webhooks/${seg(id)}`),
    createWebhook: (input: { url: string; events: string[] }) => client.request(createdWebhookSchema, "POST", "/admin/v1/webhooks", input),
    updateWebhook: (id: string, input: { url?: string; events?: string[]; enabled?: boolean }) =>
      client.request(webhookSchema, "PATCH", `/admin/v1/webhooks/${seg(id)}`, input),
    deleteWebhook: (id: string) => client.request(z.object({ id: z.string() }), "DELETE", `/admin/v1/webhooks/${seg(id)}`),
  };
}
