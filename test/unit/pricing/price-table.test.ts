import { calcPrice } from "@pydantic/genai-prices";
import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice } from "../../../src/pricing/catalogue";
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

describe("bundled price table vs @pydantic/genai-prices", () => {
  it.each(cases)("$provider/$model: base tier", ({ provider, model, price }) => {
    // 100k tokens stays under every long-context threshold; prices are USD per 1M tokens.
    const per = (usage: Record<string, number>) => Number((reference(provider, model, usage) * 10).toFixed(9));
    expect(usd(price.input)).toBe(per({ input_tokens: 100_000 }));
    expect(usd(price.output)).toBe(per({ output_tokens: 100_000 }));
    expect(usd(price.cachedInput)).toBe(per({ input_tokens: 100_000, cache_read_tokens: 100_000 }));
    expect(usd(price.cacheWrite)).toBe(per({ input_tokens: 100_000, cache_write_tokens: 100_000 }));
  });

  it.each(cases)("$provider/$model: long-context tier", ({ provider, model, price }) => {
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

  it("prices dated snapshots like their family, and bounds the worst case", () => {
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-2024-08-06")).toBe(BUILTIN_PRICES.openai!["gpt-4o"]);
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4o-mini-2024-07-18")).toBe(BUILTIN_PRICES.openai!["gpt-4o-mini"]);
    expect(lookupPrice(BUILTIN_PRICES.openai, "gpt-4")).toBeNull();
    const claude = lookupPrice(BUILTIN_PRICES.anthropic, "claude-sonnet-4-6")!;
    expect(worstCaseCostMicros(claude, 1000, 500)).toBe(1000 * 3.75 + 500 * 15);
  });
});
