import type { FinishReason } from "../../openai/types";

/**
 * `stop_reason` → OpenAI `finish_reason` (reference §2.3, §8). `model_context_window_exceeded`
 * is a length stop; anything unknown (newer API values) reads as a normal stop.
 */
const FINISH: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

/** `realToolCalls`: tool calls the client sees; a JSON-mode tool call alone is a normal stop. */
export function finishReasonOf(stopReason: string | null | undefined, realToolCalls: number): FinishReason {
  const mapped = (stopReason && FINISH[stopReason]) || "stop";
  return mapped === "tool_calls" && realToolCalls === 0 ? "stop" : mapped;
}
