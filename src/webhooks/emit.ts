import type { Env } from "../env";
import { logError } from "../lib/log";
import { type WebhookEvent, type WebhookEventType, webhookEvent } from "./events";

/** All deliveries go through one dispatcher: alerts are rare, and one queue keeps retries in order. */
export const DISPATCHER_NAME = "global";

export function dispatcher(env: Env) {
  return env.WEBHOOK_DISPATCHER.getByName(DISPATCHER_NAME);
}

/**
 * Hands an event to the dispatcher, which stores one delivery per subscribed webhook. Never throws:
 * callers run it in `waitUntil` after their own work, so an alert can never fail or slow a request.
 */
export async function emitWebhookEvent(env: Env, event: WebhookEvent): Promise<void> {
  try {
    await dispatcher(env).enqueue(event);
  } catch (error) {
    logError("webhook event not enqueued", { type: event.type, error: String(error) });
  }
}

/** `emitWebhookEvent` in the background of a request or Durable Object call. */
export function emitInBackground(env: Env, waitUntil: (p: Promise<unknown>) => void, type: WebhookEventType, data: Record<string, unknown>, at?: number): void {
  waitUntil(emitWebhookEvent(env, webhookEvent(type, data, at)));
}
