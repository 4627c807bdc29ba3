import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice } from "../src/pricing/catalogue";
import { costMicros, type ModelPrice } from "../src/pricing/price";
import { admin, chat, createKey } from "./support/gateway";

/**
 * Issue 13, items 1-3 and 10, through the front door: every request shape is reserved for at its
 * worst case (n choices, every forwarded field), prices match exact model names only, and Anthropic's
 * 1-hour cache writes are billed at their own price. The mock upstreams report real usage.
 */

type Usage = { tokens: number; spend_usd: number; requests: number; reserved_tokens: number; reserved_usd: number };
type ErrorBody = { error: { code: string; message: string; param: string | null } };
type OpenAiUsage = { prompt_tokens: number; completion_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };

async function usageOf(id: string): Promise<Usage> {
  return ((await (await admin(`/keys/${id}`)).json()) as { usage: Usage }).usage;
}

/** The key's usage once every admitted request has settled (settle runs after the response, via waitUntil). */
async function settled(id: string): Promise<Usage> {
  for (let i = 0; i < 200; i++) {
    const usage = await usageOf(id);
    if (usage.reserved_tokens === 0 && usage.reserved_usd === 0) return usage;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error("reservations did not settle");
}

const price = (provider: string, model: string) => lookupPrice(BUILTIN_PRICES[provider], model) as ModelPrice;
const micros = (usd: string | null) => Math.round(Number(usd) * 1_000_000);
const say = (tag: string, chars = 400) => [{ role: "user", content: `${tag} ${"x".repeat(chars - tag.length - 1)}` }];

async function costOf(res: Response, p: ModelPrice): Promise<{ charged: number; expected: number }> {
  const body = (await res.json()) as { usage: OpenAiUsage };
  const expected = costMicros(p, {
    promptTokens: body.usage.prompt_tokens,
    completionTokens: body.usage.completion_tokens,
    cachedPromptTokens: body.usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  });
  return { charged: micros(res.headers.get("x-keyforge-cost-usd")), expected };
}

describe("n choices are reserved for (issue 13.1)", () => {
  it("150 parallel n: 128, max_tokens: 1000 against a $0.01 cap: the cap holds", async () => {
    const key = await createKey({ spend_cap_usd: 0.01 });
    const body = { model: "gpt-4o-mini", n: 128, max_tokens: 1000, messages: say("n128-issue-repro") };
    const responses = await Promise.all(Array.from({ length: 150 }, () => chat(key.key, body)));
    // One request's worst case alone (128 × 1000 output tokens at $0.60/M = $0.0768) is past the cap.
    expect(responses.map((r) => r.status)).toEqual(Array(150).fill(402));
    expect(((await responses[0]!.json()) as ErrorBody).error.code).toBe("spend_cap_exceeded");
    await Promise.all(responses.slice(1).map((r) => r.body?.cancel()));
    expect((await settled(key.id)).spend_usd).toBe(0);
  }, 30_000);

  it("n: 128 with a small max_tokens: what fits is admitted, spend stays under the cap and is the reported usage", async () => {
    const key = await createKey({ spend_cap_usd: 0.01 });
    // Worst case ≈ 128 × 50 × $0.60/M = 3,840 µ$ + the prompt: two fit in $0.01 at a time, then the ledger is full.
    const body = { model: "gpt-4o-mini", n: 128, max_tokens: 50, messages: say("n128-small") };
    const responses = await Promise.all(Array.from({ length: 40 }, () => chat(key.key, body)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(ok.length).toBeLessThanOrEqual(2);
    expect(responses.filter((r) => r.status !== 200).every((r) => r.status === 402)).toBe(true);
    const costs = await Promise.all(ok.map((r) => costOf(r, price("openai", "gpt-4o-mini"))));
    for (const { charged, expected } of costs) expect(charged).toBe(expected);
    await Promise.all(responses.filter((r) => r.status !== 200).map((r) => r.body?.cancel()));
    const usage = await settled(key.id);
    expect(micros(String(usage.spend_usd))).toBe(costs.reduce((sum, c) => sum + c.charged, 0));
    expect(usage.spend_usd).toBeLessThanOrEqual(0.01);
  }, 30_000);

  it("Gemini gets n as candidateCount: reserved for too", async () => {
    const key = await createKey({ spend_cap_usd: 0.001 });
    // Worst case 8 × 40 × $2.50/M = 800 µ$ + the prompt: one at a time fits in 1,000 µ$.
    const body = { model: "gemini-2.5-flash", n: 8, max_tokens: 40, messages: say("gemini-candidates") };
    const responses = await Promise.all(Array.from({ length: 10 }, () => chat(key.key, body)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    await Promise.all(responses.map((r) => r.body?.cancel()));
    expect((await settled(key.id)).spend_usd).toBeLessThanOrEqual(0.001);
  }, 30_000);

  it("a TPM and monthly-quota key: n × max output counts against both", async () => {
    const key = await createKey({ tpm: 2000, monthly_token_quota: 5000 });
    const big = await chat(key.key, { model: "gpt-4o-mini", n: 128, max_tokens: 1000, messages: say("tpm-n128") });
    expect(big.status).toBe(429);
    expect(((await big.json()) as ErrorBody).error.message).toMatch(/worst case of \d+ tokens exceeds the key's limit of 2000/);
    // 16 × 10 output tokens + the prompt fit a minute's 2,000 tokens: admitted, and exactly what the mock reported is counted.
    const small = await chat(key.key, { model: "gpt-4o-mini", n: 16, max_tokens: 10, messages: say("tpm-n16") });
    expect(small.status).toBe(200);
    const reported = ((await small.json()) as { usage: OpenAiUsage }).usage;
    expect(reported.completion_tokens).toBe(160);
    const usage = await settled(key.id);
    expect(usage.tokens).toBe(reported.prompt_tokens + reported.completion_tokens);
    expect(usage.tokens).toBeLessThanOrEqual(5000);
  }, 30_000);

  it("without max_tokens the injected cap is shared by the n choices of a TPM key", async () => {
    const key = await createKey({ tpm: 3000 });
    const res = await chat(key.key, { model: "gpt-4o-mini", n: 4, messages: say("tpm-inject", 8000) });
    expect(res.status).toBe(200);
    const reported = ((await res.json()) as { usage: OpenAiUsage }).usage;
    expect(reported.prompt_tokens + reported.completion_tokens).toBeLessThanOrEqual(3000);
  }, 30_000);
});

describe("the prompt bound covers every forwarded field (issue 13.2)", () => {
  const huge = "y".repeat(3 * 1024 * 1024);
  const tool = (description: string) => ({ type: "function", function: { name: "lookup", description, parameters: { type: "object" } } });
  const legacy = (description: string) => ({ name: "lookup", description, parameters: { type: "object" } });
  // 3 MB ≈ 1M tokens ≈ $0.15 of gpt-4o-mini input: past a $0.05 cap wherever it sits.
  const shapes: Array<[string, (text: string) => Record<string, unknown>]> = [
    ["tools[].function.description", (text) => ({ tools: [tool(text)] })],
    ["functions[].description (legacy)", (text) => ({ functions: [legacy(text)] })],
    ["prediction.content", (text) => ({ prediction: { type: "content", content: text } })],
    ["an unknown top-level field", (text) => ({ x_extra_context: text })],
    ["an unknown field of a message", (text) => ({ messages: [{ role: "user", content: "hi", x_note: text }] })],
  ];

  it.each(shapes)(
    "a 3 MB string in %s is refused with 402 on a capped key",
    async (_, shape) => {
      const key = await createKey({ spend_cap_usd: 0.05 });
      const base = { model: "gpt-4o-mini", max_tokens: 10, messages: say("bound-small") };
      // The same shape with a small string is admitted: the 402 below is the string's size, not the shape.
      expect((await chat(key.key, { ...base, ...shape("short") })).status).toBe(200);
      const res = await chat(key.key, { ...base, ...shape(huge) });
      expect(res.status).toBe(402);
      expect(((await res.json()) as ErrorBody).error.code).toBe("spend_cap_exceeded");
    },
    30_000,
  );

  it.each([
    ["web_search_options", { web_search_options: {} }, "web_search_options", { tpm: 100_000 }],
    [
      "a file content part",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "read this" },
              { type: "file", file: { file_id: "file-1" } },
            ],
          },
        ],
      },
      "messages[0].content[1]",
      { monthly_token_quota: 100_000 },
    ],
    ["audio output", { modalities: ["text", "audio"], audio: { voice: "alloy", format: "wav" } }, "modalities", { spend_cap_usd: 1 }],
    ["priority processing", { service_tier: "priority" }, "service_tier", { spend_cap_usd: 1 }],
  ] as const)(
    "%s cannot be bounded: 400 naming it on a capped key, forwarded on an open key",
    async (_, extra, param, policy) => {
      const body = { model: "mock/echo", max_tokens: 10, messages: say("unbounded"), ...extra };
      const capped = await createKey(policy);
      const refused = await chat(capped.key, body);
      expect(refused.status).toBe(400);
      const error = ((await refused.json()) as ErrorBody).error;
      expect(error).toMatchObject({ code: "invalid_request", param });
      expect(error.message).toContain(param);
      const open = await createKey();
      expect((await chat(open.key, body)).status).toBe(200);
    },
    30_000,
  );

  it("priority processing changes the price, not the tokens: a key with token caps only may use it", async () => {
    const key = await createKey({ tpm: 100_000 });
    expect((await chat(key.key, { model: "mock/echo", max_tokens: 10, messages: say("tier"), service_tier: "priority" })).status).toBe(200);
  }, 30_000);
});

describe("prices by exact name and dated aliases only (issue 13.3)", () => {
  it.each(["gpt-5-pro", "gpt-5.4-pro", "o3-pro", "gpt-4o-2099-01-01", "openai/gpt-5-mini-pro"])(
    "%s has no price: a $-capped key refuses it and says why",
    async (model) => {
      const key = await createKey({ spend_cap_usd: 1 });
      const res = await chat(key.key, { model, max_tokens: 10, messages: say("unpriced") });
      expect(res.status).toBe(403);
      const error = ((await res.json()) as ErrorBody).error;
      expect(error.code).toBe("model_not_allowed");
      expect(error.message).toMatch(/has no price.*spend cap/);
    },
    30_000,
  );

  it("gpt-4o-2024-05-13 is billed at its own (higher) price, gpt-4o-2024-08-06 as gpt-4o", async () => {
    const key = await createKey({ spend_cap_usd: 1 });
    const old = await chat(key.key, { model: "gpt-4o-2024-05-13", max_tokens: 20, messages: say("snapshot-0513") });
    expect(old.status).toBe(200);
    const oldCost = await costOf(old, { input: 5_000_000, cachedInput: 5_000_000, cacheWrite: 5_000_000, output: 15_000_000 });
    expect(oldCost.charged).toBe(oldCost.expected);
    const dated = await chat(key.key, { model: "gpt-4o-2024-08-06", max_tokens: 20, messages: say("snapshot-0806") });
    expect(dated.status).toBe(200);
    const datedCost = await costOf(dated, price("openai", "gpt-4o"));
    expect(datedCost.charged).toBe(datedCost.expected);
    expect(oldCost.charged).toBeGreaterThan(datedCost.charged);
  }, 30_000);

  it("an admin price makes an unpriced variant usable on a $-capped key", async () => {
    const key = await createKey({ spend_cap_usd: 1 });
    const model = "openai/gpt-5-pro";
    expect((await chat(key.key, { model, max_tokens: 10, messages: say("admin-price") })).status).toBe(403);
    const set = await admin("/prices", { method: "POST", json: { model, input_usd_per_mtok: 15, output_usd_per_mtok: 120 } });
    expect(set.status).toBe(201);
    try {
      const res = await chat(key.key, { model, max_tokens: 10, messages: say("admin-price") });
      expect(res.status).toBe(200);
      const cost = await costOf(res, { input: 15_000_000, cachedInput: 15_000_000, cacheWrite: 15_000_000, output: 120_000_000 });
      expect(cost.charged).toBe(cost.expected);
    } finally {
      await admin(`/prices?model=${encodeURIComponent(model)}`, { method: "DELETE" });
    }
  }, 30_000);
});

describe("Anthropic cache writes by TTL (issue 13.10)", () => {
  it("1-hour writes are billed at 2× input, 5-minute writes at 1.25×", async () => {
    const { key } = await createKey();
    const part = (text: string, ttl?: "5m" | "1h") => ({ type: "text", text, cache_control: { type: "ephemeral", ...(ttl ? { ttl } : {}) } });
    const res = await chat(key, {
      model: "claude-sonnet-4-6",
      messages: [
        // The mock reads up to the first mark from cache, and writes each later block with its breakpoint's TTL.
        { role: "system", content: [part("a".repeat(400)), part("b".repeat(800), "1h"), part("c".repeat(400), "5m")] },
        { role: "user", content: "hello world from the sdk" },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: OpenAiUsage };
    // 100 read + 200 written for 1 h + 100 written for 5 min + 6 plain input tokens; 6 output tokens.
    expect(body.usage).toMatchObject({ prompt_tokens: 406, completion_tokens: 6, prompt_tokens_details: { cached_tokens: 100 } });
    // $3 × 6 + $0.30 × 100 + $6 × 200 + $3.75 × 100 + $15 × 6 per 1M = 18 + 30 + 1,200 + 375 + 90 = 1,713 µ$.
    expect(res.headers.get("x-keyforge-cost-usd")).toBe("0.001713");
  }, 30_000);

  it("streamed: the same cost reaches the ledger", async () => {
    const key = await createKey();
    const part = (text: string, ttl: "1h") => ({ type: "text", text, cache_control: { type: "ephemeral", ttl } });
    const res = await chat(key.key, {
      model: "claude-sonnet-4-6",
      stream: true,
      messages: [
        { role: "system", content: [part("a".repeat(400), "1h"), part("b".repeat(800), "1h")] },
        { role: "user", content: "hello world from the sdk" },
      ],
    });
    expect(res.status).toBe(200);
    await res.text();
    // 6 × $3 + 100 × $0.30 + 200 × $6 + 6 × $15 per 1M = 18 + 30 + 1,200 + 90 = 1,338 µ$.
    expect((await settled(key.id)).spend_usd).toBe(0.001338);
  }, 30_000);
});
