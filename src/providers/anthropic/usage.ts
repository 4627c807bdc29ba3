import type { Usage } from "../types";
import type { WireUsage } from "./wire";

/**
 * Anthropic's `input_tokens` excludes cache reads and writes (reference §2.3), OpenAI's
 * `prompt_tokens` includes them: total input = input + cache_creation + cache_read.
 */
export function usageFromAnthropic(usage: WireUsage): Usage {
  // `cache_creation` splits the writes by lifetime; without it every write is a 5-minute one (reference §4.1).
  // Should the split add up to more than the total, the larger count is billed: never under-charge.
  const writes1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
  const writes5m = usage.cache_creation?.ephemeral_5m_input_tokens ?? 0;
  const cacheWrite = Math.max(usage.cache_creation_input_tokens ?? 0, writes5m + writes1h);
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  return {
    promptTokens: (usage.input_tokens ?? 0) + cacheWrite + cacheRead,
    completionTokens: usage.output_tokens ?? 0,
    cachedPromptTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    ...(writes1h > 0 ? { cacheWrite1hTokens: writes1h } : {}),
    reasoningTokens: usage.output_tokens_details?.thinking_tokens ?? 0,
  };
}

/**
 * A stream reports usage in pieces: `message_start` has the input and cache counts,
 * each `message_delta` has cumulative counts (output always, the rest optionally). Later wins.
 */
export function mergeUsage(previous: WireUsage | null, next: WireUsage): WireUsage {
  const merged: WireUsage = { ...(previous ?? {}) };
  for (const [field, value] of Object.entries(next)) {
    if (value !== null && value !== undefined) (merged as Record<string, unknown>)[field] = value;
  }
  return merged;
}
