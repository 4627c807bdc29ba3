import type { Usage } from "../types";
import type { WireUsage } from "./wire";

/**
 * Anthropic's `input_tokens` excludes cache reads and writes (reference §2.3), OpenAI's
 * `prompt_tokens` includes them: total input = input + cache_creation + cache_read.
 */
export function usageFromAnthropic(usage: WireUsage): Usage {
  const cacheWrite = usage.cache_creation_input_tokens ?? 0;
  const cacheRead = usage.cache_read_input_tokens ?? 0;
  return {
    promptTokens: (usage.input_tokens ?? 0) + cacheWrite + cacheRead,
    completionTokens: usage.output_tokens ?? 0,
    cachedPromptTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
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
