import { DurableObject } from "cloudflare:workers";
import { logWarn } from "../src/lib/log";
import { MAX_ATTEMPTS, nextAttemptAt } from "../src/webhooks/backoff";
import { attemptDelivery } from "../src/webhooks/deliver";
import type { WebhookEvent } from "../src/webhooks/events";
import {
  type DeliveryRow,
  type WebhookRow,
  dueDeliveries,
  enqueueDeliveries,
  nextDueAt,
  secretAad,
  updateDelivery,
  webhooksByIds,
} from "../src/webhooks/store";
import { Vault } from "../src/vault/vault";

/**
 * One instance (`getByName("global")`): stores each event as one delivery per subscribed webhook in
 * D1, then sends them from its alarm, retrying with backoff (src/webhooks/backoff.ts) until the
 * receiver answers 2xx or the attempts run out (`failed`). At least once: a delivery is marked
 * delivered only after a 2xx, so an attempt cut short by an eviction is sent again.
 */
export class WebhookDispatcher extends DurableObject<Cloudflare.Env> {
  /** The clock. Tests replace it through `runInDurableObject` to drive retries without sleeping. */
  now: () => number = () => Date.now();
  /** The alarm run in progress: a second trigger (a test's runDurableObjectAlarm) waits for it instead of sending twice. */
  private running: Promise<void> | null = null;
  /** An event was queued while the alarm ran: it may have missed that run's look at what is due. */
  private queuedDuringRun = false;

  /** Returns the number of deliveries queued (0 when no enabled webhook subscribes to the type). */
  async enqueue(event: WebhookEvent): Promise<number> {
    const queued = await enqueueDeliveries(this.env.DB, event, this.now());
    if (queued > 0) {
      if (this.running) this.queuedDuringRun = true;
      await this.scheduleAt(this.now());
    }
    return queued;
  }

  override async alarm(): Promise<void> {
    if (this.running) return this.running;
    this.running = this.run().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async run(): Promise<void> {
    this.queuedDuringRun = false;
    const now = this.now();
    const due = await dueDeliveries(this.env.DB, now);
    const hooks = new Map((await webhooksByIds(this.env.DB, [...new Set(due.map((d) => d.webhookId))])).map((h) => [h.id, h]));
    await Promise.all(due.map((d) => this.send(d, hooks.get(d.webhookId), now)));
    const next = this.queuedDuringRun ? this.now() : await nextDueAt(this.env.DB);
    // Set unconditionally: inside the alarm handler the alarm being run may still read as set.
    if (next !== null) await this.ctx.storage.setAlarm(this.wallTime(next));
  }

  private async send(delivery: DeliveryRow, hook: WebhookRow | undefined, now: number): Promise<void> {
    if (!hook || !hook.enabled) {
      await updateDelivery(this.env.DB, delivery.id, {
        state: "failed",
        nextAttemptAt: null,
        lastError: hook ? "webhook disabled" : "webhook deleted",
        updatedAt: now,
      });
      return;
    }
    const attempts = delivery.attempts + 1;
    let result;
    try {
      const secret = await Vault.fromEnv(this.env).decrypt(hook.secretCiphertext, secretAad(hook.id));
      result = await attemptDelivery({
        url: hook.url,
        secret,
        id: delivery.id,
        body: delivery.payload,
        nowMs: now,
        allowInsecure: this.env.ALLOW_INSECURE_UPSTREAMS === "on",
      });
    } catch (error) {
      // Vault misconfigured or the row tampered with: counted as a failed attempt, no secret in the log.
      logWarn("webhook delivery could not be signed", { webhook_id: hook.id, error: error instanceof Error ? error.name : "error" });
      result = { ok: false as const, status: null, error: "could not sign the delivery" };
    }
    if (result.ok) {
      await updateDelivery(this.env.DB, delivery.id, {
        state: "delivered",
        attempts,
        lastStatus: result.status,
        lastError: null,
        nextAttemptAt: null,
        updatedAt: now,
      });
      return;
    }
    const next = nextAttemptAt(attempts, now);
    await updateDelivery(this.env.DB, delivery.id, {
      state: next === null ? "failed" : "pending",
      attempts,
      lastStatus: result.status,
      lastError: attempts >= MAX_ATTEMPTS ? `${result.error}; gave up after ${attempts} attempts` : result.error,
      nextAttemptAt: next,
      updatedAt: now,
    });
  }

  /**
   * Alarm at `at` on this object's clock, unless one is already set earlier. Set by delay from the
   * wall clock, so a driven clock (tests) never sets an alarm in the wall-clock past (see KeyGuard).
   */
  private async scheduleAt(at: number): Promise<void> {
    const wall = this.wallTime(at);
    const current = await this.ctx.storage.getAlarm();
    if (current !== null && current <= wall) return;
    await this.ctx.storage.setAlarm(wall);
  }

  private wallTime(at: number): number {
    return Date.now() + Math.max(0, at - this.now());
  }
}
