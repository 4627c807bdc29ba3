import { calcPrice } from "@pydantic/genai-prices";
import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice, PRICE_ALIASES } from "../../../src/pricing/catalogue";
import { costMicros, worstCaseCostMicros, type ModelPrice } from "../../../src/pricing/price";

/**
 * The Worker bundles its own small integer price table (≈2 KB) instead of `@pydantic/genai-prices`
 * (≈477 KB minified, 77 KB gzipped, floating-point totals). This test keeps the bundled table honest
 * against that maintained source: bump the dev dependency, and any price that moved fails here.
 */

const PROVIDER_IDS: Record<string, string> = { openai: "openai", anthropic: "anthropic", gemini: "google" };
const usd = (micros: number) => micros / 1_000_000;

function reference(provider: string, model: string, usage: Record<string, number>): number {
  return calcPrice(usage, model, { providerId: PROVIDER_IDS[provider]! })!.total_price;
}

const cases = Object.entries(BUILTIN_PRICES)
  .filter(([provider]) => provider in PROVIDER_IDS)
  .flatMap(([provider, models]) => Object.entries(models).map(([model, price]) => ({ provider, model, price })));
// Each dated alias is checked under its own name: genai-prices must price it exactly like the entry it maps to.
const aliasCases = Object.entries(PRICE_ALIASES).flatMap(([provider, aliases]) =>
  Object.entries(aliases).map(([model, family]) => ({ provider, model, price: BUILTIN_PRICES[provider]![family]! })),
);

describe("bundled price table vs @pydantic/genai-prices", () => {
  it.each([...cases, ...aliasCases])("$provider/$model: base tier", ({ provider, model, price }) => {
    // 100k tokens stays under every long-context threshold; prices are USD per 1M tokens.
    const per = (usage: Record<string, number>) => Number((reference(provider, model, usage) * 10).toFixed(9));
    expect(usd(price.input)).toBe(per({ input_tokens: 100_000 }));
    expect(usd(price.output)).toBe(per({ output_tokens: 100_000 }));
    expect(usd(price.cachedInput)).toBe(per({ input_tokens: 100_000, cache_read_tokens: 100_000 }));
    expect(usd(price.cacheWrite)).toBe(per({ input_tokens: 100_000, cache_write_tokens: 100_000 }));
  });

  it.each(cases.filter((c) => c.provider === "anthropic"))("$provider/$model: 1-hour cache writes", ({ provider, model, price }) => {
    const per = (usage: Record<string, number>) => Number((reference(provider, model, usage) * 10).toFixed(9));
    const hour = { input_tokens: 100_000, cache_write_tokens: 100_000, cache_write_1h_tokens: 100_000 };
    expect(usd(price.cacheWrite1h!)).toBe(per(hour));
    expect(usd(price.cacheWrite1h!)).toBe(usd(price.input) * 2);
  });

  it.each([...cases, ...aliasCases])("$provider/$model: long-context tier", ({ provider, model, price }) => {
    const long = price.longContext ?? price;
    const input = Number(reference(provider, model, { input_tokens: 1_000_000 }).toFixed(9));
    const withOutput = Number(reference(provider, model, { input_tokens: 1_000_000, output_tokens: 1_000_000 }).toFixed(9));
    expect(usd(long.input)).toBe(input);
    expect(usd(long.output)).toBe(Number((withOutput - input).toFixed(9)));
  });
});

describe("cost arithmetic", () => {
  const gpt54 = lookupPrice(BUILTIN_PRICES.openai, "gpt-5.4") as ModelPrice;
  const usage = { promptTokens: 1000, completionTokens: 200, cachedPromptTokens: 400, cacheWriteTokens: 0, reasoningTokens: 50 };

  it("charges integer micro-dollars, rounded up, cached tokens at the cached price", () => {
    // 600 × 2.5 + 400 × 0.25 + 200 × 15 = 1500 + 100 + 3000 = 4600 µ$
    expect(costMicros(gpt54, usage)).toBe(4600);
    expect(costMicros(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-mini")!, { ...usage, cachedPromptTokens: 0, promptTokens: 1, completionTokens: 0 })).toBe(1);
  });

  it("switches to the long-context tier above the threshold", () => {
    const long = { ...usage, promptTokens: 300_000, cachedPromptTokens: 0 };
    expect(costMicros(gpt54, long)).toBe(300_000 * 5 + 200 * 22.5);
  });

  it("prices listed dated snapshots like their family, and bounds the worst case", () => {
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-2024-08-06")).toBe(BUILTIN_PRICES.openai!["gpt-4o"]);
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-mini-2024-07-18")).toBe(BUILTIN_PRICES.openai!["gpt-4o-mini"]);
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4")).toBeNull();
    const claude = lookupPrice(BUILTIN_PRICES.anthropic, "claude-sonnet-4-6")!;
    // The dearest input rate is the 1-hour cache write ($6/M): a client may mark its whole prompt for it.
    expect(worstCaseCostMicros(claude, 1000, 500)).toBe(1000 * 6 + 500 * 15);
  });

  it("never prices by prefix: variants and unlisted snapshots are unpriced", () => {
    for (const model of [
      "gpt-5-pro",
      "gpt-5.4-pro",
      "o3-pro",
      "gpt-4o-2099-01-01",
      "gpt-5-mini-pro",
      "claude-opus-4-1-fast",
      "gemini-2.5-flash-preview-05-20",
    ]) {
      const provider = model.startsWith("claude") ? "anthropic" : model.startsWith("gemini") ? "gemini" : "openai";
      expect(lookupPrice(BUILTIN_PRICES[provider], model), model).toBeNull();
    }
    // A snapshot priced apart has its own entry, and an alias never crosses providers.
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-2024-05-13")).toMatchObject({ input: 5_000_000, output: 15_000_000 });
    expect(lookupPrice(BUILTIN_PRICES.anthropic, "gpt-4o-2024-08-06")).toBeNull();
    // Object.prototype's names are not models.
    for (const model of ["constructor", "__proto__", "toString", "hasOwnProperty"]) expect(lookupPrice(BUILTIN_PRICES.openai, model)).toBeNull();
  });

  it("bills 1-hour cache writes apart from 5-minute ones", () => {
    const claude = lookupPrice(BUILTIN_PRICES.anthropic, "claude-sonnet-4-6")!;
    const usage = { promptTokens: 1306, completionTokens: 10, cachedPromptTokens: 100, cacheWriteTokens: 1200, reasoningTokens: 0 };
    // 6 uncached × $3 + 100 read × $0.30 + 1,000 written for 5 min × $3.75 + 200 for 1 h × $6 + 10 × $15 per 1M.
    expect(costMicros(claude, { ...usage, cacheWrite1hTokens: 200 })).toBe(18 + 30 + 3750 + 1200 + 150);
    // All writes as 5-minute ones: 1,200 × $3.75.
    expect(costMicros(claude, usage)).toBe(18 + 30 + 4500 + 150);
    // A 1-hour count above all writes is clamped to the writes (never charged twice): 1,200 × $6.
    expect(costMicros(claude, { ...usage, cacheWrite1hTokens: 5000 })).toBe(18 + 30 + 7200 + 150);
    // Providers without a 1-hour price bill such writes as ordinary cache writes.
    const gpt = lookupPrice(BUILTIN_PRICES.openai, "gpt-4o")!;
    expect(costMicros(gpt, { ...usage, cacheWrite1hTokens: 200 })).toBe(costMicros(gpt, usage));
  });
});
