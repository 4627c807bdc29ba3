import { describe, expect, it } from "vitest";
import { requestEntries } from "./support/audit";
import { chat, createKey } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * Batched settles (src/proxy/settle-batch.ts) through the front door: a finished request's settle
 * waits a few milliseconds for company, and the key's next admit carries it, so a sequential agent
 * is admitted on its real usage, never on its previous request's worst case; concurrent requests
 * settle in batches and every one of them is charged and audited exactly once.
 */

const ask = (marker: string, extra: Record<string, unknown> = {}) => ({ model: "gpt-4o-mini", messages: [{ role: "user", content: marker }], ...extra });

describe("batched settles", () => {
  it("a sequential agent whose every request reserves the whole remaining cap is admitted each time: the next admit carries the settle", async () => {
    // No max_tokens: each request's worst case is lowered to exactly what is left of the $0.005
    // (issue 18), so a second request admitted before the first's settle would find nothing left.
    const key = await createKey({ spend_cap_usd: 0.005 });
    for (let i = 0; i < 6; i++) {
      const streamed = i % 2 === 1;
      const res = await chat(key.key, ask(`sb-seq-${i}`, streamed ? { stream: true, stream_options: { include_usage: true } } : {}));
      expect(res.status, `request ${i}`).toBe(200);
      expect(Number(res.headers.get("x-keyforge-max-tokens"))).toBeGreaterThan(1000);
      await res.text();
    }
    const usage = await settledUsage(key.id);
    expect(usage.requests).toBe(6);
    expect(usage.spend_usd).toBeGreaterThan(0);
    expect(usage.spend_usd).toBeLessThan(0.005);
  });

  it("48 concurrent requests on one key: every one charged and audited once, in contiguous entries", { timeout: 30_000 }, async () => {
    const key = await createKey({ spend_cap_usd: 5 });
    const results = await Promise.all(
      Array.from({ length: 48 }, async (_, i) => {
        const res = await chat(key.key, ask(`sb-par-${i}`, { max_tokens: 20 }));
        await res.text();
        return res.status;
      }),
    );
    expect(results.every((s) => s === 200)).toBe(true);
    const usage = await settledUsage(key.id);
    expect(usage.requests).toBe(48);
    const entries = await requestEntries(key.id);
    expect(entries).toHaveLength(48);
    expect(new Set(entries.map((e) => e.request_id)).size).toBe(48);
  });
});
