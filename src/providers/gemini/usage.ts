import type { Usage } from "../types";
import type { UsageMetadata } from "./wire";

/**
 * Gemini counts cached tokens inside `promptTokenCount` (as OpenAI does) but thoughts outside
 * `candidatesTokenCount` (unlike OpenAI), reference §0 and §3.3. Tool-use prompt tokens are input.
 */
export function usageFromGemini(meta: UsageMetadata): Usage {
  const thoughts = meta.thoughtsTokenCount ?? 0;
  return {
    promptTokens: (meta.promptTokenCount ?? 0) + (meta.toolUsePromptTokenCount ?? 0),
    completionTokens: (meta.candidatesTokenCount ?? 0) + thoughts,
    cachedPromptTokens: meta.cachedContentTokenCount ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: thoughts,
  };
}
