import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import type { WebhookDispatcher } from "../durable-objects/webhook-dispatcher";
import { RETRY_DELAYS_MS } from "../src/webhooks/backoff";
import { tamper, verifyAudit, waitForEntries } from "./support/audit";
import { admin, chat, createKey, mockUpstream } from "./support/gateway";
import { admitRequest, guardOf, setClock } from "./support/key-guard";
import { testNow } from "./support/clock";

/**
 * Alert webhooks through the admin API, delivered to the mock receiver (test/mocks/webhook-receiver.ts).
 * Each test has its own receiver name, so deliveries of other tests' events never mix in. The
 * dispatcher's clock is driven by hand for retries (no sleeping).
 */

let seq = 0;
const receiverName = (label: string) => `${label}-${Date.now().toString(36)}-${++seq}`;
const receiverUrl = (name: string) => `${mockUpstream.url()}/webhook-receiver/${name}`;

interface Received {
  raw: string;
  body: { type: string; timestamp: string; data: Record<string, unknown> };
  headers: Record<string, string>;
}

async function received(name: string): Promise<Received[]> {
  return (await mockUpstream.requests(name)) as unknown as Received[];
}

async function createWebhook(name: string, events: string[]): Promise<{ id: string; secret: string }> {
  const res = await admin("/webhooks", { method: "POST", json: { url: receiverUrl(name), events } });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; secret: string };
}

interface DeliveryView {
  id: string;
  event_type: string;
  state: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
}

async function deliveries(webhookId: string): Promise<DeliveryView[]> {
  const res = await admin(`/webhooks/${webhookId}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { deliveries: DeliveryView[] }).deliveries;
}

/** Polls (events are enqueued in waitUntil, and the first attempt runs from an immediate alarm). */
async function waitFor<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, ms = 8_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const dispatcher = () => env.WEBHOOK_DISPATCHER.getByName("global");

function setDispatcherClock(now: () => number): Promise<void> {
  return runInDurableObject(dispatcher(), (instance: WebhookDispatcher) => {
    instance.now = now;
  });
}

/**
 * Runs the dispatcher's alarm once the driven clock has made attempt `n` due, and waits for it. The
 * runtime may also fire the alarm by itself (it is set by delay on the wall clock), so the test
 * waits for the attempt rather than for its own alarm run.
 */
async function attemptDue(webhookId: string, n: number): Promise<DeliveryView> {
  await runDurableObjectAlarm(dispatcher());
  const [d] = await waitFor(
    () => deliveries(webhookId),
    (x) => (x[0]?.attempts ?? 0) >= n,
    `attempt ${n}`,
  );
  expect(d!.attempts).toBe(n);
  return d!;
}

afterEach(() => setDispatcherClock(() => Date.now()));

describe("webhooks: admin API", () => {
  it("creates a webhook: the whsec_ secret is shown once and stored only as vault ciphertext", { timeout: 20_000 }, async () => {
    const name = receiverName("create");
    const created = await createWebhook(name, ["key.revoked"]);
    expect(created).toMatchObject({ object: "webhook", url: receiverUrl(name), events: ["key.revoked"], enabled: true });
    expect(created.id).toMatch(/^wh_[0-9a-f]{24}$/);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    const bytes = atob(created.secret.slice("whsec_".length)).length;
    expect(bytes).toBeGreaterThanOrEqual(24);
    expect(bytes).toBeLessThanOrEqual(32);

    const one = await (await admin(`/webhooks/${created.id}`)).text();
    const list = await (await admin("/webhooks")).text();
    for (const text of [one, list]) {
      expect(text).not.toContain(created.secret);
      expect(text).not.toContain("secret");
    }
    const row = await env.DB.prepare("SELECT * FROM webhooks WHERE id = ?").bind(created.id).first<Record<string, unknown>>();
    expect(JSON.stringify(row)).not.toContain(created.secret.slice("whsec_".length));
    expect(row?.secret_ciphertext).toMatch(/^v\d+:/);
  });

  it("refuses URLs the SSRF guard refuses, on create and on update", { timeout: 20_000 }, async () => {
    for (const url of [
      "https://10.0.0.1/hook",
      "https://169.254.169.254/latest/meta-data",
      "https://metadata.google.internal/hook",
      "https://127.0.0.1.nip.io/hook",
      "https://user:pass@example.com/hook",
      "ftp://example.com/hook",
    ]) {
      const res = await admin("/webhooks", { method: "POST", json: { url, events: ["key.revoked"] } });
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error.message).toContain("'url'");
    }
    const { id } = await createWebhook(receiverName("ssrf"), ["key.revoked"]);
    const patched = await admin(`/webhooks/${id}`, { method: "PATCH", json: { url: "https://192.168.1.1/hook" } });
    expect(patched.status).toBe(400);
    expect((await (await admin(`/webhooks/${id}`)).json()) as object).toMatchObject({ url: expect.stringContaining("/webhook-receiver/") });
  });

  it("bad input is a clear 400; an unknown id is 404", { timeout: 20_000 }, async () => {
    for (const json of [
      { url: receiverUrl("x") },
      { url: receiverUrl("x"), events: [] },
      { url: receiverUrl("x"), events: ["key.exploded"] },
      { url: 5, events: ["key.revoked"] },
    ]) {
      expect((await admin("/webhooks", { method: "POST", json })).status).toBe(400);
    }
    const { id } = await createWebhook(receiverName("bad"), ["key.revoked"]);
    expect((await admin(`/webhooks/${id}`, { method: "PATCH", json: {} })).status).toBe(400);
    expect((await admin(`/webhooks/${id}`, { method: "PATCH", json: { secret: "whsec_x" } })).status).toBe(400);
    expect((await admin("/webhooks/wh_nope")).status).toBe(404);
    expect((await admin("/webhooks/wh_nope", { method: "DELETE" })).status).toBe(404);
  });

  it("PATCH changes events and enabled; DELETE removes the webhook", { timeout: 20_000 }, async () => {
    const { id } = await createWebhook(receiverName("patch"), ["key.revoked"]);
    const patched = await admin(`/webhooks/${id}`, { method: "PATCH", json: { events: ["key.revoked", "limit.threshold_crossed"], enabled: false } });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ id, events: ["key.revoked", "limit.threshold_crossed"], enabled: false });
    expect((await admin(`/webhooks/${id}`, { method: "DELETE" })).status).toBe(200);
    expect((await admin(`/webhooks/${id}`)).status).toBe(404);
  });
});

describe("webhooks: delivery", () => {
  it("key revoked → a key.revoked event, signed per Standard Webhooks (verified with the standardwebhooks package)", { timeout: 20_000 }, async () => {
    const name = receiverName("revoke");
    const hook = await createWebhook(name, ["key.revoked"]);
    const key = await createKey({ name: "revoked by test" });
    expect((await admin(`/keys/${key.id}/revoke`, { method: "POST" })).status).toBe(200);

    const [delivery] = await waitFor(
      async () => (await received(name)).filter((r) => r.body?.data?.key_id === key.id),
      (r) => r.length > 0,
      "the key.revoked delivery",
    );
    const verified = new Webhook(hook.secret).verify(delivery!.raw, delivery!.headers) as Received["body"];
    expect(verified).toMatchObject({ type: "key.revoked", data: { key_id: key.id, name: "revoked by test" } });
    expect(Date.parse(verified.timestamp)).toBeGreaterThan(Date.now() - 60_000);
    expect(delivery!.headers["webhook-id"]).toMatch(/^msg_/);
    expect(delivery!.headers["webhook-signature"]).toMatch(/^v1,/);
    // A tampered body or another secret does not verify.
    expect(() => new Webhook(hook.secret).verify(delivery!.raw.replace(key.id, "vk_other"), delivery!.headers)).toThrow();
    expect(() => new Webhook(`whsec_${btoa("another secret of 24 bytes")}`).verify(delivery!.raw, delivery!.headers)).toThrow();

    // Revoking again changes nothing, so it alerts nothing.
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });
    await waitFor(
      () => deliveries(hook.id),
      (d) => d.every((x) => x.state === "delivered"),
      "the first delivery's state",
    );
    expect((await deliveries(hook.id)).filter((d) => d.event_type === "key.revoked")).toHaveLength(1);
  });

  it("a receiver that answers 500 twice then 200: delivered on the 3rd attempt, after 5 s and 30 s of backoff", { timeout: 30_000 }, async () => {
    const name = receiverName("retry");
    await mockUpstream.script({ key: name, status: 500, times: 2 });
    const hook = await createWebhook(name, ["key.revoked"]);
    const clock = { t: Date.now() };
    await setDispatcherClock(() => clock.t);
    const key = await createKey();
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });

    const [first] = await waitFor(
      () => deliveries(hook.id),
      (d) => d.length === 1 && d[0]!.attempts === 1,
      "the 1st attempt",
    );
    expect(first).toMatchObject({ state: "pending", attempts: 1, last_status: 500, next_attempt_at: new Date(clock.t + RETRY_DELAYS_MS[0]).toISOString() });

    // Not yet due: an alarm run now sends nothing.
    clock.t += RETRY_DELAYS_MS[0] - 1;
    await runDurableObjectAlarm(dispatcher());
    expect((await deliveries(hook.id))[0]).toMatchObject({ attempts: 1 });

    clock.t += 1;
    const second = await attemptDue(hook.id, 2);
    expect(second).toMatchObject({ state: "pending", last_status: 500, next_attempt_at: new Date(clock.t + RETRY_DELAYS_MS[1]).toISOString() });

    clock.t += RETRY_DELAYS_MS[1];
    const third = await attemptDue(hook.id, 3);
    expect(third).toMatchObject({ state: "delivered", last_status: 200, last_error: null, next_attempt_at: null });

    const attempts = await received(name);
    expect(attempts).toHaveLength(3);
    // At least once with one message id: the receiver can deduplicate retries.
    expect(new Set(attempts.map((a) => a.headers["webhook-id"])).size).toBe(1);
    const last = attempts[2]!;
    expect(Number(last.headers["webhook-timestamp"])).toBe(Math.floor(clock.t / 1000));
    expect(new Webhook(hook.secret).verify(last.raw, last.headers)).toMatchObject({ type: "key.revoked", data: { key_id: key.id } });
  });

  it("gives up after the last retry: state failed", { timeout: 30_000 }, async () => {
    const name = receiverName("give-up");
    await mockUpstream.script({ key: name, status: 503 });
    const hook = await createWebhook(name, ["key.revoked"]);
    const clock = { t: Date.now() };
    await setDispatcherClock(() => clock.t);
    const key = await createKey();
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });
    await waitFor(
      () => deliveries(hook.id),
      (d) => d[0]?.attempts === 1,
      "the 1st attempt",
    );
    for (const [i, delay] of RETRY_DELAYS_MS.entries()) {
      clock.t += delay;
      await attemptDue(hook.id, i + 2);
    }
    expect((await deliveries(hook.id))[0]).toMatchObject({ state: "failed", attempts: RETRY_DELAYS_MS.length + 1, last_status: 503, next_attempt_at: null });
    expect((await received(name)).length).toBe(RETRY_DELAYS_MS.length + 1);
  });

  it("never follows a redirect: a 3xx is a failed attempt", { timeout: 20_000 }, async () => {
    const name = receiverName("redirect");
    const elsewhere = receiverName("redirect-target");
    await mockUpstream.script({ key: name, status: 302, times: 1, headers: { location: receiverUrl(elsewhere) } });
    const hook = await createWebhook(name, ["key.revoked"]);
    const key = await createKey();
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });
    const [d] = await waitFor(
      () => deliveries(hook.id),
      (x) => x[0]?.attempts === 1,
      "the 1st attempt",
    );
    expect(d).toMatchObject({ state: "pending", last_status: 302, last_error: "redirect not followed" });
    expect(await received(elsewhere)).toHaveLength(0);
  });

  it("a disabled webhook gets nothing", { timeout: 20_000 }, async () => {
    const name = receiverName("disabled");
    const hook = await createWebhook(name, ["key.revoked"]);
    await admin(`/webhooks/${hook.id}`, { method: "PATCH", json: { enabled: false } });
    const on = await createWebhook(receiverName("enabled"), ["key.revoked"]);
    const key = await createKey();
    await admin(`/keys/${key.id}/revoke`, { method: "POST" });
    // The enabled one got its delivery, so the event has been enqueued: the disabled one has none.
    await waitFor(
      () => deliveries(on.id),
      (d) => d.some((x) => x.state === "delivered"),
      "the enabled webhook's delivery",
    );
    expect(await deliveries(hook.id)).toEqual([]);
  });
});

describe("webhooks: events", () => {
  it("a key crossing 50/80/100 % of its monthly spend cap and token quota: each threshold alerted exactly once", { timeout: 30_000 }, async () => {
    const name = receiverName("limits");
    const hook = await createWebhook(name, ["limit.threshold_crossed"]);
    const key = await createKey({ spend_cap_usd: 1, monthly_token_quota: 1000 });
    const stub = guardOf(key.id);
    // Charges (tokens, micro-dollars): 45 %, 55 %, 85 %, 85 % (nothing new), 100 %.
    const charges = [450, 100, 300, 0, 150];
    for (const [i, tokens] of charges.entries()) {
      expect((await stub.admit(await admitRequest(key, `lim-${i}`, { promptTokens: 1, maxTokens: 1 }))).ok).toBe(true);
      const settled = await stub.settle({
        requestId: `lim-${i}`,
        status: 200,
        promptTokens: tokens,
        completionTokens: 0,
        costMicros: tokens * 1000,
        latencyMs: 1,
      });
      expect(settled).toEqual({ settled: true });
    }
    const mine = async () => (await received(name)).filter((r) => r.body?.data?.key_id === key.id);
    await waitFor(mine, (r) => r.length >= 6, "six threshold alerts");
    // Anything late would have arrived by the time every delivery of this webhook is settled.
    await waitFor(
      () => deliveries(hook.id),
      (d) => d.every((x) => x.state === "delivered"),
      "every delivery settled",
    );
    const alerts = (await mine()).map((r) => new Webhook(hook.secret).verify(r.raw, r.headers) as Received["body"]);
    expect(alerts.every((a) => a.type === "limit.threshold_crossed")).toBe(true);
    const seen = alerts.map((a) => `${a.data.metric}:${a.data.threshold}`).sort();
    expect(seen).toEqual(["tokens:100", "tokens:50", "tokens:80", "usd:100", "usd:50", "usd:80"]);
    const usd100 = alerts.find((a) => a.data.metric === "usd" && a.data.threshold === 100)!;
    expect(usd100.data).toMatchObject({ key_id: key.id, budget_id: null, window: "month", limit: 1, used: 1 });
    expect(usd100.data.period).toMatch(/^\d{4}-\d{2}$/);
  });

  it("a provider key cooled down (and then disabled) → one event each, not one per repeated 429", { timeout: 20_000 }, async () => {
    const name = receiverName("pool");
    const hook = await createWebhook(name, ["provider_key.cooled_down", "provider_key.disabled"]);
    const provider = `whpool-${Date.now().toString(36)}`;
    expect(
      (await admin("/providers", { method: "POST", json: { name: provider, type: "openai-compatible", base_url: `${mockUpstream.url()}/openai/v1` } })).status,
    ).toBe(201);
    const added = await admin("/provider-keys", { method: "POST", json: { provider, key: `sk-${provider}-0123456789`, name: "primary" } });
    const pk = (await added.json()) as { id: string };
    const pool = env.PROVIDER_POOL.getByName(provider);
    await pool.reportRateLimited(pk.id, 30_000);
    await pool.reportRateLimited(pk.id, 30_000);
    await pool.disable(pk.id);
    const events = await waitFor(
      async () => (await received(name)).map((r) => new Webhook(hook.secret).verify(r.raw, r.headers) as Received["body"]),
      (e) => e.length >= 2,
      "the pool alerts",
    );
    await waitFor(
      () => deliveries(hook.id),
      (d) => d.length === 2 && d.every((x) => x.state === "delivered"),
      "both deliveries settled",
    );
    expect(events.map((e) => e.type).sort()).toEqual(["provider_key.cooled_down", "provider_key.disabled"]);
    expect(events.find((e) => e.type === "provider_key.cooled_down")!.data).toMatchObject({
      provider,
      provider_key_id: pk.id,
      name: "primary",
      retry_after_ms: 30_000,
    });
    // The provider key itself never appears in an alert.
    expect(JSON.stringify(events)).not.toContain(`sk-${provider}-0123456789`);
  });

  /** The verified events of one key at receiver `name`, once at least `n` have arrived. */
  async function eventsOf(name: string, secret: string, keyId: string, n: number): Promise<Received["body"][]> {
    const mine = await waitFor(
      async () => (await received(name)).filter((r) => r.body?.data?.key_id === keyId),
      (r) => r.length >= n,
      `${n} events for ${keyId}`,
    );
    return mine.map((r) => new Webhook(secret).verify(r.raw, r.headers) as Received["body"]);
  }

  it("key rotated → key.rotated with the old secret's grace end, never the new token", { timeout: 20_000 }, async () => {
    const name = receiverName("rotate");
    const hook = await createWebhook(name, ["key.rotated"]);
    const key = await createKey();
    const res = await admin(`/keys/${key.id}/rotate`, { method: "POST", json: { grace_seconds: 60 } });
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { key: string; previous_key_valid_until: string };
    const [event] = await eventsOf(name, hook.secret, key.id, 1);
    expect(event).toMatchObject({ type: "key.rotated", data: { key_id: key.id, previous_key_valid_until: rotated.previous_key_valid_until } });
    expect(JSON.stringify(event)).not.toContain(rotated.key.slice(3));
  });

  it("key expired → key.expired once, on the first refused request", { timeout: 20_000 }, async () => {
    const name = receiverName("expire");
    const hook = await createWebhook(name, ["key.expired"]);
    const t0 = testNow();
    const key = await createKey({ expires_at: new Date(t0 + 60_000).toISOString() });
    await setClock(key.id, t0 + 120_000);
    for (let i = 0; i < 3; i++) expect((await guardOf(key.id).admit(await admitRequest(key, `exp-${i}`))).ok).toBe(false);
    const [event] = await eventsOf(name, hook.secret, key.id, 1);
    expect(event).toMatchObject({ type: "key.expired", data: { key_id: key.id, expires_at: new Date(t0 + 60_000).toISOString() } });
    await waitFor(
      () => deliveries(hook.id),
      (d) => d.every((x) => x.state === "delivered"),
      "every delivery settled",
    );
    expect((await received(name)).filter((r) => r.body?.data?.key_id === key.id)).toHaveLength(1);
  });

  it("an audit verification failure → audit.verification_failed naming the first bad seq", { timeout: 20_000 }, async () => {
    const name = receiverName("audit");
    const hook = await createWebhook(name, ["audit.verification_failed"]);
    const key = await createKey();
    for (let i = 0; i < 3; i++) expect((await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: `wh ${i}` }] })).status).toBe(200);
    await waitForEntries(key.id, 3);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: true });
    await tamper(key.id, `update audit_entries set entry = replace(entry, '"cost_micros":', '"cost_micros":9') where seq = 2`);
    expect(await verifyAudit(key.id)).toMatchObject({ valid: false, first_invalid_seq: 2 });
    const [event] = await eventsOf(name, hook.secret, key.id, 1);
    expect(event).toMatchObject({ type: "audit.verification_failed", data: { key_id: key.id, first_invalid_seq: 2, error_code: "chain_mismatch" } });
  });
});
