import { describe, expect, it } from "vitest";
import { admin, chat, createKey } from "./support/gateway";
import { admitRequest, guardOf } from "./support/key-guard";

/**
 * The extra cost of a shared budget (issue 16; numbers in docs/performance.md): sequential requests
 * through the front door with a key alone and with a key in a budget, interleaved so both see the
 * same machine load. Asserts only that both paths serve; it logs the medians it measured.
 */

const ROUNDS = 150;
const ask = (tag: string) => ({ model: "mock/echo", max_tokens: 16, messages: [{ role: "user", content: tag }] });

function percentile(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

describe("budget overhead (micro-benchmark)", () => {
  it("a key in a budget vs a key alone: median and p90 latency per request", async () => {
    const budget = (await (await admin("/budgets", { method: "POST", json: { name: "overhead", limits: [{ window: "1d", usd: 100 }] } })).json()) as {
      id: string;
    };
    const plain = await createKey({ limits: [{ window: "1d", usd: 100 }] });
    const member = await createKey({ limits: [{ window: "1d", usd: 100 }], budget_id: budget.id });
    const times = { plain: [] as number[], member: [] as number[] };
    for (let i = 0; i < ROUNDS + 10; i++) {
      for (const [name, key] of [
        ["plain", plain],
        ["member", member],
      ] as const) {
        const started = performance.now();
        const res = await chat(key.key, ask(`overhead-${name}-${i}`));
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        if (i >= 10) times[name].push(performance.now() - started); // the first 10 warm up
      }
    }
    const row = (xs: number[]) => `median ${percentile(xs, 0.5).toFixed(2)} ms, p90 ${percentile(xs, 0.9).toFixed(2)} ms`;
    console.log(`[budget overhead] ${ROUNDS} sequential requests each — key alone: ${row(times.plain)}; key in a budget: ${row(times.member)}`);
    // The same, one level down: admit + settle RPCs on the KeyGuard alone (no upstream, no Worker routing).
    const rpc = { plain: [] as number[], member: [] as number[] };
    for (let i = 0; i < ROUNDS + 10; i++) {
      for (const [name, key] of [
        ["plain", plain],
        ["member", member],
      ] as const) {
        const req = await admitRequest(key, `rpc-${name}-${i}`, { maxTokens: 16 });
        const started = performance.now();
        expect((await guardOf(key.id).admit(req)).ok).toBe(true);
        await guardOf(key.id).settle({ requestId: req.requestId, status: 200, promptTokens: 5, completionTokens: 5, costMicros: 15, latencyMs: 1 });
        if (i >= 10) rpc[name].push(performance.now() - started);
      }
    }
    console.log(`[budget overhead] admit + settle RPCs — key alone: ${row(rpc.plain)}; key in a budget: ${row(rpc.member)}`);
  }, 120_000);
});
