/** OpenAI response shapes the gateway produces (see reference §1.4 and §1.5). */

export interface ToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

export interface CompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number; [k: string]: number };
  completion_tokens_details?: { reasoning_tokens: number; [k: string]: number };
}

export type FinishReason = "stop" | "length" | "tool_calls" | "content_filter" | "function_call";

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: {
      role: "assistant";
      content: string | null;
      refusal: string | null;
      tool_calls?: ToolCall[];
      annotations?: unknown[];
      /** Reasoning text some providers return (Anthropic thinking); not part of OpenAI's schema. */
      reasoning_content?: string;
    };
    logprobs: null;
    finish_reason: FinishReason;
  }>;
  usage?: CompletionUsage;
  service_tier?: string;
  system_fingerprint?: string | null;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: "assistant";
      content?: string | null;
      refusal?: string | null;
      tool_calls?: ToolCallDelta[];
      reasoning_content?: string;
    };
    logprobs: null;
    finish_reason: FinishReason | null;
  }>;
  usage?: CompletionUsage | null;
}
