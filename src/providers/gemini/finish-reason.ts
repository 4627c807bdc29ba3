import type { FinishReason } from "../../openai/types";

/**
 * Gemini `finishReason` → OpenAI (reference §3.3, §8). A tool call ends with `STOP`: Gemini has no
 * tool-call reason, so it is inferred from functionCall parts. Unknown or absent reasons read as stop.
 */
const FILTERED = new Set(["SAFETY", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "LANGUAGE", "IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT"]);

export function finishReasonOf(reason: string | undefined, hasFunctionCalls: boolean): FinishReason {
  if (reason === "MAX_TOKENS") return "length";
  if (reason !== undefined && FILTERED.has(reason)) return "content_filter";
  return hasFunctionCalls ? "tool_calls" : "stop";
}
