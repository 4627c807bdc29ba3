import { MOCK_MODELS } from "../providers/mock/mock-upstream";
import type { ModelPrice } from "./price";

/**
 * Bundled list prices (USD per 1M tokens, reference §4.1, re-checked 2026-09) for the models each
 * built-in provider serves. Lookup is by exact name, or by a dated snapshot listed in PRICE_ALIASES,
 * never by prefix: a variant (`gpt-5-pro`, `gpt-4o-2024-05-13`) can cost many times its family, so
 * an unlisted name is unpriced, and a key with a spend cap refuses it until an admin sets a price.
 */

type Usd = { in: number; cached: number; out: number; write?: number; write1h?: number };

function price(p: Usd, long?: { above: number } & Usd): ModelPrice {
  const m = (usd: number) => Math.round(usd * 1_000_000);
  const rates = (r: Usd) => ({
    input: m(r.in),
    cachedInput: m(r.cached),
    cacheWrite: m(r.write ?? r.in),
    ...(r.write1h === undefined ? {} : { cacheWrite1h: m(r.write1h) }),
    output: m(r.out),
  });
  return long ? { ...rates(p), longContext: { abovePromptTokens: long.above, ...rates(long) } } : rates(p);
}

export const BUILTIN_PRICES: Record<string, Record<string, ModelPrice>> = {
  openai: {
    "gpt-5.4": price({ in: 2.5, cached: 0.25, out: 15 }, { above: 272_000, in: 5, cached: 0.5, out: 22.5 }),
    "gpt-5": price({ in: 1.25, cached: 0.125, out: 10 }),
    "gpt-5-mini": price({ in: 0.25, cached: 0.025, out: 2 }),
    "gpt-4.1": price({ in: 2, cached: 0.5, out: 8 }),
    "gpt-4o": price({ in: 2.5, cached: 1.25, out: 10 }),
    // The first gpt-4o snapshot kept its launch price (and has no cache discount).
    "gpt-4o-2024-05-13": price({ in: 5, cached: 5, out: 15 }),
    "gpt-4o-mini": price({ in: 0.15, cached: 0.075, out: 0.6 }),
    // Embeddings bill input only (no cache, no output).
    "text-embedding-3-small": price({ in: 0.02, cached: 0.02, out: 0 }),
    "text-embedding-3-large": price({ in: 0.13, cached: 0.13, out: 0 }),
    "text-embedding-ada-002": price({ in: 0.1, cached: 0.1, out: 0 }),
  },
  anthropic: {
    "claude-sonnet-4-6": price({ in: 3, cached: 0.3, out: 15, write: 3.75, write1h: 6 }),
    "claude-sonnet-4-5": price(
      { in: 3, cached: 0.3, out: 15, write: 3.75, write1h: 6 },
      { above: 200_000, in: 6, cached: 0.6, out: 22.5, write: 7.5, write1h: 12 },
    ),
    // Claude Code's current defaults (2.1.x: opus → claude-opus-4-8, sonnet → claude-sonnet-5), so its
    // out-of-the-box setup works on a key with a spend cap. Flat over the 1M context window.
    "claude-opus-4-8": price({ in: 5, cached: 0.5, out: 25, write: 6.25, write1h: 10 }),
    "claude-sonnet-5": price({ in: 2, cached: 0.2, out: 10, write: 2.5, write1h: 4 }),
    "claude-opus-4-7": price({ in: 5, cached: 0.5, out: 25, write: 6.25, write1h: 10 }),
    "claude-opus-4-6": price({ in: 5, cached: 0.5, out: 25, write: 6.25, write1h: 10 }),
    "claude-opus-4-5": price({ in: 5, cached: 0.5, out: 25, write: 6.25, write1h: 10 }),
    "claude-opus-4-1": price({ in: 15, cached: 1.5, out: 75, write: 18.75, write1h: 30 }),
    "claude-haiku-4-5": price({ in: 1, cached: 0.1, out: 5, write: 1.25, write1h: 2 }),
  },
  gemini: {
    "gemini-2.5-pro": price({ in: 1.25, cached: 0.125, out: 10 }, { above: 200_000, in: 2.5, cached: 0.25, out: 15 }),
    "gemini-2.5-flash": price({ in: 0.3, cached: 0.03, out: 2.5 }),
    "gemini-2.5-flash-lite": price({ in: 0.1, cached: 0.01, out: 0.4 }),
    // Text input (the only kind /v1/embeddings sends); gemini-embedding-2 bills images and audio higher.
    "gemini-embedding-001": price({ in: 0.15, cached: 0.15, out: 0 }),
    "gemini-embedding-2": price({ in: 0.2, cached: 0.2, out: 0 }),
  },
  // The mock is priced so that spend caps can be tried locally without a provider account.
  mock: Object.fromEntries(MOCK_MODELS.map((model) => [model, price({ in: 1, cached: 0.1, out: 2 })])),
};

/**
 * Dated snapshots that cost exactly what their family entry costs (checked against
 * @pydantic/genai-prices in test/unit/pricing/price-table.test.ts). A snapshot with a price of its own
 * gets its own entry above instead; one listed nowhere is unpriced.
 */
export const PRICE_ALIASES: Record<string, Record<string, string>> = {
  openai: {
    "gpt-5.4-2026-03-05": "gpt-5.4",
    "gpt-5-2025-08-07": "gpt-5",
    "gpt-5-mini-2025-08-07": "gpt-5-mini",
    "gpt-4.1-2025-04-14": "gpt-4.1",
    "gpt-4o-2024-08-06": "gpt-4o",
    "gpt-4o-2024-11-20": "gpt-4o",
    "gpt-4o-mini-2024-07-18": "gpt-4o-mini",
  },
  anthropic: {
    "claude-sonnet-4-5-20250929": "claude-sonnet-4-5",
    "claude-opus-4-5-20251101": "claude-opus-4-5",
    "claude-opus-4-1-20250805": "claude-opus-4-1",
    "claude-haiku-4-5-20251001": "claude-haiku-4-5",
  },
  gemini: {
    "gemini-2.5-flash-preview-09-2025": "gemini-2.5-flash",
    "gemini-2.5-flash-lite-preview-09-2025": "gemini-2.5-flash-lite",
  },
};

/** Alias → family name over every provider (snapshot names are unique across providers). */
const ALIAS_TARGETS = new Map(Object.values(PRICE_ALIASES).flatMap((aliases) => Object.entries(aliases)));

function own(table: Record<string, ModelPrice>, name: string | undefined): ModelPrice | null {
  // Own keys only: `constructor` or `__proto__` as a model name must not find Object.prototype's.
  return name !== undefined && Object.hasOwn(table, name) ? table[name]! : null;
}

/** The exact name, or the family of a listed dated snapshot; anything else is unpriced (null). */
export function lookupPrice(table: Record<string, ModelPrice> | undefined, model: string): ModelPrice | null {
  if (!table) return null;
  return own(table, model) ?? own(table, ALIAS_TARGETS.get(model));
}
