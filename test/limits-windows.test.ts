import { describe, expect, it } from "vitest";
import { spanStart } from "./support/clock";
import { admin, chat, createKey } from "./support/gateway";
import { setClock } from "./support/key-guard";

/**
 * Issue 16, windows per key: `limits: [{window, usd?, tokens?, requests?}]`, calendar UTC windows,
 * enforced in the KeyGuard's synchronous admit with reservations.
 */

type ErrorBody = { error: { code: string; message: string; param: string | null } };
type Usage = { spend_usd: number; tokens: number; requests: number; reserved_tokens: number; reserved_usd: number };
type Limit = { window: string; usd: number | null; tokens: number | null; requests: number | null };

const HOUR = 3_600_000;
const ask = (tag: string, maxTokens = 100) => ({ model: "mock/echo", max_tokens: maxTokens, messages: [{ role: "user", content: tag }] });

async function keyView(id: string): Promise<{ limits: Limit[]; usage: Usage; monthly_token_quota: number | null; spend_cap_usd: number | null }> {
  return (await (await admin(`/keys/${id}`)).json()) as never;
}

async function settled(id: string): Promise<Usage> {
  for (let i = 0; i < 400; i++) {
    const { usage } = await keyView(id);
    if (usage.reserved_tokens === 0 && usage.reserved_usd === 0) return usage;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("reservations did not settle");
}

describe("window limits: admin input", () => {
  it("are stored and shown, the month entry as the shorthands", async () => {
    const key = await createKey({
      limits: [
        { window: "1d", usd: 2.5 },
        { window: "1h", requests: 10 },
        { window: "month", tokens: 1000 },
      ],
    });
    const view = await keyView(key.id);
    expect(view.monthly_token_quota).toBe(1000);
    expect(view.limits).toEqual([
      { window: "1d", usd: 2.5, tokens: null, requests: null },
      { window: "1h", usd: null, tokens: null, requests: 10 },
      { window: "month", usd: null, tokens: 1000, requests: null },
    ]);
    // A PATCH of limits is the full set: without a month entry, the month shorthands are cleared.
    const patched = await admin(`/keys/${key.id}`, { method: "PATCH", json: { limits: [{ window: "7d", tokens: 50 }] } });
    expect(patched.status).toBe(200);
    const after = (await patched.json()) as { limits: Limit[]; monthly_token_quota: number | null };
    expect(after.monthly_token_quota).toBeNull();
    expect(after.limits).toEqual([{ window: "7d", usd: null, tokens: 50, requests: null }]);
  }, 20_000);

  it.each([
    [{ limits: [{ window: "2h", usd: 1 }] }],
    [{ limits: [{ window: "1d" }] }],
    [
      {
        limits: [
          { window: "1d", usd: 1 },
          { window: "1d", tokens: 5 },
        ],
      },
    ],
    [{ limits: [{ window: "1d", usd: -1 }] }],
    [{ limits: [{ window: "month", usd: 1 }], spend_cap_usd: 2 }],
    [{ limits: "daily" }],
  ])(
    "bad limits are a clear 400: %j",
    async (policy) => {
      const res = await admin("/keys", { method: "POST", json: { name: "bad limits", ...policy } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error.code).toBe("invalid_request");
    },
    20_000,
  );
});

describe("window limits: enforcement", () => {
  it("200 concurrent requests racing a daily $ cap never overspend it, and the denial names the window", async () => {
    // Worst case per request ≈ 10 prompt × $1/M + 100 output × $2/M ≈ 210 µ$: about 9 fit in $0.002 at a time.
    const key = await createKey({ limits: [{ window: "1d", usd: 0.002 }] });
    const responses = await Promise.all(Array.from({ length: 200 }, (_, i) => chat(key.key, ask(`daily-race-${i}`))));
    const statuses = responses.map((r) => r.status);
    const ok = statuses.filter((s) => s === 200).length;
    expect(ok).toBeGreaterThan(0);
    expect(statuses.every((s) => s === 200 || s === 402)).toBe(true);
    const denied = responses.find((r) => r.status === 402);
    const body = (await denied!.json()) as ErrorBody;
    expect(body.error.code).toBe("spend_cap_exceeded");
    expect(body.error.message).toContain("daily (1d)");
    await Promise.all(responses.filter((r) => r !== denied).map((r) => r.body?.cancel()));
    const usage = await settled(key.id);
    expect(usage.spend_usd).toBeLessThanOrEqual(0.002);
    expect(usage.requests).toBe(ok);
  }, 60_000);

  it("a token window → 402 quota_exceeded naming it", async () => {
    // Each worst case is ≈ 110 tokens: of two at once, exactly one fits in 150.
    const key = await createKey({ limits: [{ window: "1h", tokens: 150 }] });
    const both = await Promise.all([chat(key.key, ask("hour-tokens-1")), chat(key.key, ask("hour-tokens-2"))]);
    expect(both.map((r) => r.status).sort()).toEqual([200, 402]);
    const denied = both.find((r) => r.status === 402)!;
    await both.find((r) => r.status === 200)!.body?.cancel();
    const body = (await denied.json()) as ErrorBody;
    expect(body.error.code).toBe("quota_exceeded");
    expect(body.error.message).toContain("hourly (1h)");
  }, 20_000);

  it("a requests window → 429 with Retry-After to the window's end, and rolls over with the (driven) clock", async () => {
    const key = await createKey({
      limits: [
        { window: "1h", requests: 2 },
        { window: "1d", tokens: 100_000 },
      ],
    });
    const hour = spanStart(HOUR);
    await setClock(key.id, hour + 10 * 60_000); // 10 minutes into an hour: 50 minutes to its end
    expect((await chat(key.key, ask("hour-req-1"))).status).toBe(200);
    expect((await chat(key.key, ask("hour-req-2"))).status).toBe(200);
    const denied = await chat(key.key, ask("hour-req-3"));
    expect(denied.status).toBe(429);
    expect(((await denied.json()) as ErrorBody).error.code).toBe("rate_limit_exceeded");
    expect(Number(denied.headers.get("retry-after"))).toBe(50 * 60);
    await setClock(key.id, hour + 59 * 60_000);
    expect((await chat(key.key, ask("hour-req-4"))).status).toBe(429);
    // The next UTC hour is a new window.
    await setClock(key.id, hour + HOUR + 1_000);
    expect((await chat(key.key, ask("hour-req-5"))).status).toBe(200);
    await settled(key.id);
  }, 30_000);

  it("a daily window rolls over at the UTC day boundary; what was charged stays charged once", async () => {
    const key = await createKey({ limits: [{ window: "1d", requests: 1, usd: 1 }] });
    const day = spanStart(24 * HOUR);
    await setClock(key.id, day + 23 * HOUR);
    expect((await chat(key.key, ask("day-roll-1"))).status).toBe(200);
    const denied = await chat(key.key, ask("day-roll-2"));
    expect(denied.status).toBe(429);
    expect(Number(denied.headers.get("retry-after"))).toBe(3600);
    const before = await settled(key.id);
    await setClock(key.id, day + 24 * HOUR + 1);
    expect((await chat(key.key, ask("day-roll-3"))).status).toBe(200);
    const after = await settled(key.id);
    expect(after.requests - before.requests).toBe(1);
  }, 30_000);

  it("a key without max_tokens under only a window limit still reserves a bounded worst case", async () => {
    const key = await createKey({ limits: [{ window: "7d", usd: 0.01 }] });
    const res = await chat(key.key, { model: "mock/echo", messages: [{ role: "user", content: "week-bounded" }] });
    expect(res.status).toBe(200);
    await settled(key.id);
  }, 20_000);
});
