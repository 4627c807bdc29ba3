import type { KeyRecord } from "../src/keys/types";
import { emitInBackground } from "../src/webhooks/emit";
import { monthlyCrossings } from "../src/webhooks/limit-alerts";

/**
 * The KeyGuard's webhook alerts. Both are called inside its synchronous admit/settle step and only
 * hand the event to `waitUntil`: the request never waits for the dispatcher.
 */

interface Usage {
  tokens: number;
  spendMicros: number;
}

/** `limit.threshold_crossed` for each 50/80/100 % of the monthly cap or quota this charge crossed. */
export function limitAlerts(ctx: DurableObjectState, env: Cloudflare.Env, record: KeyRecord, period: string, before: Usage, after: Usage, now: number): void {
  for (const data of monthlyCrossings(record, period, before, after)) {
    emitInBackground(env, (p) => ctx.waitUntil(p), "limit.threshold_crossed", data, now);
  }
}

const EXPIRED_ALERTED = "webhooks:key_expired_alerted";

/**
 * `key.expired`, once per key: the first time the expired key is refused (an unused key has no
 * KeyGuard to notice). Remembered in the object's synchronous KV, so it is not repeated after a restart.
 */
export function keyExpiredOnce(ctx: DurableObjectState, env: Cloudflare.Env, record: KeyRecord, now: number): void {
  if (ctx.storage.kv.get(EXPIRED_ALERTED) === record.expiresAt) return;
  ctx.storage.kv.put(EXPIRED_ALERTED, record.expiresAt);
  const data = { key_id: record.id, name: record.name, expires_at: record.expiresAt === null ? null : new Date(record.expiresAt).toISOString() };
  emitInBackground(env, (p) => ctx.waitUntil(p), "key.expired", data, now);
}
