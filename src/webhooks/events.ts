import * as z from "zod";

/**
 * Alert event types (Standard Webhooks naming: `<group>.<event>`). A payload is always
 * `{type, timestamp, data}`; `data` is documented per type in src/webhooks/README.md.
 */
export const WEBHOOK_EVENT_TYPES = [
  "limit.threshold_crossed",
  "key.revoked",
  "key.rotated",
  "key.expired",
  "provider_key.cooled_down",
  "provider_key.disabled",
  "audit.verification_failed",
] as const;

export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
export const webhookEventType = z.enum(WEBHOOK_EVENT_TYPES);

export interface WebhookEvent {
  type: WebhookEventType;
  /** ISO 8601, when the event happened (not when it is delivered). */
  timestamp: string;
  data: Record<string, unknown>;
}

export function webhookEvent(type: WebhookEventType, data: Record<string, unknown>, at: number = Date.now()): WebhookEvent {
  return { type, timestamp: new Date(at).toISOString(), data };
}

/**
 * `limit.threshold_crossed` data. One shape for every limit, so per-window limits and shared budgets
 * emit the same event: `window` names the limit's window (`month` for the monthly cap and quota),
 * `budget_id` is set for a shared budget (then `key_id` is the key whose request crossed it).
 */
export interface ThresholdCrossedData {
  [field: string]: unknown;
  key_id: string | null;
  budget_id: string | null;
  window: string;
  /** The window's instance, e.g. `2026-12` for a calendar month. */
  period: string;
  metric: "usd" | "tokens" | "requests";
  /** 50, 80 or 100. */
  threshold: number;
  limit: number;
  used: number;
}
