import { MOCK_MODELS } from "../providers/mock/mock-upstream";
import type { ModelPrice } from "./price";

/**
 * Bundled list prices (USD per 1M tokens, reference §4.1, re-checked 2026-09) for the models each
 * built-in provider serves. Lookup is by exact name, then by the longest catalogue name that the
 * requested model starts with, so dated snapshots (`gpt-4o-2024-08-06`) price like their family.
 */

type Usd = { in: number; cached: number; out: number; write?: number };

function price(p: Usd, long?: { above: number } & Usd): ModelPrice {
  const m = (usd: number) => Math.round(usd * 1_000_000);
  const base = { input: m(p.in), cachedInput: m(p.cached), cacheWrite: m(p.write ?? p.in), output: m(p.out) };
  if (!long) return base;
  return {
    ...base,
    longContext: {
      abovePromptTokens: long.above,
      input: m(long.in),
      cachedInput: m(long.cached),
      cacheWrite: m(long.write ?? long.in),
      output: m(long.out),
    },
  };
}

export const BUILTIN_PRICES: Record<string, Record<string, ModelPrice>> = {
  openai: {
    "gpt-5.4": price({ in: 2.5, cached: 0.25, out: 15 }, { above: 272_000, in: 5, cached: 0.5, out: 22.5 }),
    "gpt-5": price({ in: 1.25, cached: 0.125, out: 10 }),
    "gpt-5-mini": price({ in: 0.25, cached: 0.025, out: 2 }),
    "gpt-4.1": price({ in: 2, cached: 0.5, out: 8 }),
    "gpt-4o": price({ in: 2.5, cached: 1.25, out: 10 }),
    "gpt-4o-mini": price({ in: 0.15, cached: 0.075, out: 0.6 }),
  },
  anthropic: {
    "claude-sonnet-4-6": price({ in: 3, cached: 0.3, out: 15, write: 3.75 }),
    "claude-sonnet-4-5": price({ in: 3, cached: 0.3, out: 15, write: 3.75 }, { above: 200_000, in: 6, cached: 0.6, out: 22.5, write: 7.5 }),
    "claude-opus-4-7": price({ in: 5, cached: 0.5, out: 25, write: 6.25 }),
    "claude-opus-4-6": price({ in: 5, cached: 0.5, out: 25, write: 6.25 }),
    "claude-opus-4-5": price({ in: 5, cached: 0.5, out: 25, write: 6.25 }),
    "claude-opus-4-1": price({ in: 15, cached: 1.5, out: 75, write: 18.75 }),
    "claude-haiku-4-5": price({ in: 1, cached: 0.1, out: 5, write: 1.25 }),
  },
  gemini: {
    "gemini-2.5-pro": price({ in: 1.25, cached: 0.125, out: 10 }, { above: 200_000, in: 2.5, cached: 0.25, out: 15 }),
    "gemini-2.5-flash": price({ in: 0.3, cached: 0.03, out: 2.5 }),
    "gemini-2.5-flash-lite": price({ in: 0.1, cached: 0.01, out: 0.4 }),
  },
  // The mock is priced so that spend caps can be tried locally without a provider account.
  mock: Object.fromEntries(MOCK_MODELS.map((model) => [model, price({ in: 1, cached: 0.1, out: 2 })])),
};

/** Exact name first, then the longest catalogue entry the model name starts with. */
export function lookupPrice(table: Record<string, ModelPrice> | undefined, model: string): ModelPrice | null {
  if (!table) return null;
  const exact = table[model];
  if (exact) return exact;
  let best: string | null = null;
  for (const name of Object.keys(table)) {
    if (model.startsWith(`${name}-`) && (best === null || name.length > best.length)) best = name;
  }
  return best === null ? null : (table[best] ?? null);
}
