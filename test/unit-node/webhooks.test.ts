import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { MAX_ATTEMPTS, nextAttemptAt, RETRY_DELAYS_MS } from "../../src/webhooks/backoff";
import { generateWebhookSecret, signWebhook } from "../../src/webhooks/signature";
import { crossedThresholds } from "../../src/webhooks/thresholds";

describe("webhook signatures", () => {
  it("match the standardwebhooks reference implementation", { timeout: 5_000 }, async () => {
    const secret = generateWebhookSecret();
    const body = JSON.stringify({ type: "key.revoked", timestamp: new Date().toISOString(), data: { key_id: "k" } });
    const ts = Math.floor(Date.now() / 1000);
    const signature = await signWebhook(secret, "msg_1", ts, body);
    expect(signature).toBe(new Webhook(secret).sign("msg_1", new Date(ts * 1000), body));
    expect(new Webhook(secret).verify(body, { "webhook-id": "msg_1", "webhook-timestamp": String(ts), "webhook-signature": signature })).toBeTruthy();
  });
});

describe("threshold crossings", () => {
  it("reports each of 50/80/100 % once, on the charge that reaches it (integer math, inclusive)", { timeout: 5_000 }, () => {
    expect(crossedThresholds(1000, 0, 499)).toEqual([]);
    expect(crossedThresholds(1000, 499, 500)).toEqual([50]);
    expect(crossedThresholds(1000, 500, 799)).toEqual([]);
    expect(crossedThresholds(1000, 0, 1000)).toEqual([50, 80, 100]);
    expect(crossedThresholds(1000, 1000, 2000)).toEqual([]);
    expect(crossedThresholds(3, 1, 2)).toEqual([50]); // 1.5 is the boundary: 2 crosses it
    expect(crossedThresholds(null, 0, 10)).toEqual([]);
    expect(crossedThresholds(0, 0, 10)).toEqual([]);
  });
});

describe("retry backoff", () => {
  it("5 s, 30 s, 2 min, 10 min, 1 h, 6 h, then gives up", { timeout: 5_000 }, () => {
    expect(RETRY_DELAYS_MS.slice(0, 5)).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000]);
    expect(nextAttemptAt(1, 0)).toBe(5_000);
    expect(nextAttemptAt(MAX_ATTEMPTS - 1, 0)).toBe(RETRY_DELAYS_MS.at(-1));
    expect(nextAttemptAt(MAX_ATTEMPTS, 0)).toBeNull();
  });
});
