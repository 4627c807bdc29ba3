import { PRICE_ALIASES } from "./catalogue";

/**
 * Each catalogued chat model's maximum output tokens (what the provider accepts as `max_tokens` /
 * `max_completion_tokens` / `maxOutputTokens`, reasoning or thinking included). Sources: OpenAI's
 * model pages, Anthropic's models overview, Google's Gemini models page, as mirrored in LiteLLM's
 * `model_prices_and_context_window.json` (`max_output_tokens`; reference provider-wire-formats §4.2
 * quotes claude-sonnet-4-6's 64000), checked 2026-12. Lookup is like prices: the exact name or a
 * dated snapshot listed in PRICE_ALIASES (same family, same limit), never a prefix guess.
 *
 * A model not listed here (custom providers, the mock, embeddings) has no known maximum: a capped
 * key then gets FALLBACK_MAX_TOKENS injected (README, "Output bounds").
 */
export const MAX_OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  openai: {
    "gpt-5.4": 128_000,
    "gpt-5": 128_000,
    "gpt-5-mini": 128_000,
    "gpt-4.1": 32_768,
    "gpt-4o": 16_384,
    // The first gpt-4o snapshot had a smaller output limit than the family.
    "gpt-4o-2024-05-13": 4_096,
    "gpt-4o-mini": 16_384,
  },
  anthropic: {
    "claude-sonnet-4-6": 64_000,
    "claude-sonnet-4-5": 64_000,
    "claude-opus-4-7": 128_000,
    "claude-opus-4-6": 128_000,
    "claude-opus-4-5": 64_000,
    "claude-opus-4-1": 32_000,
    "claude-haiku-4-5": 64_000,
  },
  gemini: {
    "gemini-2.5-pro": 65_536,
    "gemini-2.5-flash": 65_536,
    "gemini-2.5-flash-lite": 65_536,
  },
};

/** The output bound a capped key's request without one gets when the model's maximum is unknown. */
export const FALLBACK_MAX_TOKENS = 4096;

/** The model's maximum output tokens, or null when the catalogue does not know it. */
export function maxOutputTokens(provider: string, model: string): number | null {
  const table = MAX_OUTPUT_TOKENS[provider];
  if (!table) return null;
  if (Object.hasOwn(table, model)) return table[model]!;
  const family = PRICE_ALIASES[provider]?.[model];
  return family !== undefined && Object.hasOwn(PRICE_ALIASES[provider]!, model) && Object.hasOwn(table, family) ? table[family]! : null;
}
