import type { ChatCompletionChunk, CompletionUsage, FinishReason } from "../openai/types";
import type { Usage } from "./types";

/**
 * OpenAI SSE frames built by the translating adapters (Anthropic, Gemini). Every chunk of one stream
 * shares id, created and model (reference §1.5); with include_usage every chunk carries
 * `usage: null` and one extra `choices: []` chunk carries the real usage.
 */

export interface ChunkMeta {
  id: string;
  created: number;
  model: string;
  includeUsage: boolean;
}

type Delta = ChatCompletionChunk["choices"][number]["delta"];

export const DONE_FRAME = "data: [DONE]\n\n";

/**
 * The terminal frame after a mid-stream failure: the openai SDK turns it into an APIError. The
 * upstream's own message is never echoed.
 */
export const MID_STREAM_ERROR_FRAME =
  'data: {"error":{"message":"The provider failed mid-stream.","type":"api_error","param":null,"code":"upstream_error"}}\n\n';

/** The terminal frame when the provider sent nothing for longer than the stream idle timeout. */
export const STREAM_TIMEOUT_ERROR_FRAME =
  'data: {"error":{"message":"The provider sent nothing for too long.","type":"api_error","param":null,"code":"upstream_timeout"}}\n\n';

/** Thrown by a StreamTranslator when the upstream stream failed or ended before it was complete. */
export class UpstreamStreamError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = "UpstreamStreamError";
  }
}

function frame(chunk: ChatCompletionChunk): string {
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

export function deltaFrame(meta: ChunkMeta, index: number, delta: Delta, finishReason: FinishReason | null = null): string {
  return frame({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
    ...(meta.includeUsage ? { usage: null } : {}),
  });
}

export function usageFrame(meta: ChunkMeta, usage: Usage): string {
  return frame({
    id: meta.id,
    object: "chat.completion.chunk",
    created: meta.created,
    model: meta.model,
    choices: [],
    usage: completionUsage(usage),
  });
}

/** Normalised usage in OpenAI's `usage` shape (cached ⊂ prompt, reasoning ⊂ completion). */
export function completionUsage(usage: Usage): CompletionUsage {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedPromptTokens },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens },
  };
}
