import type { ChatCompletionRequest } from "../openai/schema";
import type { Usage } from "../providers/types";

/**
 * The worst case a request can cost, from everything the gateway forwards upstream: the prompt
 * bound is taken from the whole request body (every field, known or not, counts), and the output
 * bound is every choice using its whole cap. The KeyGuard reserves this before the provider is called.
 */
export interface RequestBound {
  /** Upper-leaning estimate of the input tokens (see estimatePromptTokens). */
  promptTokens: number;
  /** The client's output cap per choice: the larger of max_tokens and max_completion_tokens, or null. */
  maxTokens: number | null;
  /** Completions generated (`n`, or `best_of` on servers that take it), each up to the cap. */
  choices: number;
  /** Output billable beyond the cap: a predicted output's rejected tokens are billed as completion. */
  extraOutputTokens: number;
}

/**
 * Tokenizers average ~4 bytes of English per token and ~3 bytes (one CJK character) at worst for
 * natural text, so UTF-8 bytes / 3 of the JSON (quotes, keys and escapes add bytes, never remove
 * them) rarely under-counts. Crafted text can tokenize denser (down to one token per byte): this is
 * an estimate, which README states.
 */
const BYTES_PER_TOKEN = 3;

/**
 * Images bill by their pixels, not their base64 size, so each counts a fixed allowance: the most one
 * image bills as input. gpt-4o-mini bills 2,833 + 5,667 per 512-px tile, 8 tiles at most = 48,169;
 * everything else documented stays under 16,384 (gpt-4o ≤ 1,445, the gpt-5 family ≤ ~3,800,
 * Claude ≤ ~4,800, Gemini 258 per 768-px tile, Qwen-VL-style servers ≤ 16,384 at default settings).
 */
export function imageTokens(model: string): number {
  return model.includes("gpt-4o-mini") ? 48_169 : 16_384;
}

const encoder = new TextEncoder();
const utf8Bytes = (value: unknown) => encoder.encode(JSON.stringify(value) ?? "").byteLength;
const IMAGE_STUB = { type: "image_url" };

export function estimatePromptTokens(request: ChatCompletionRequest, model: string): number {
  let images = 0;
  const messages = request.messages.map((message) => {
    if (!Array.isArray(message.content)) return message;
    const content = (message.content as Array<{ type: string }>).map((part) => {
      if (part.type !== "image_url") return part;
      images += 1;
      return IMAGE_STUB;
    });
    return { ...message, content };
  });
  // Every other field goes upstream as it is (the OpenAI adapter forwards unknown fields too).
  return Math.ceil(utf8Bytes({ ...request, messages }) / BYTES_PER_TOKEN) + images * imageTokens(model);
}

export function boundRequest(request: ChatCompletionRequest, model: string): RequestBound {
  const caps = [request.max_tokens, request.max_completion_tokens].filter((cap): cap is number => typeof cap === "number");
  const prediction = request.prediction?.content;
  return {
    promptTokens: estimatePromptTokens(request, model),
    // Both fields are forwarded and a server may honour either: the larger one bounds the output.
    maxTokens: caps.length === 0 ? null : Math.max(...caps),
    choices: Math.max(1, request.n ?? 1, request.best_of ?? 1),
    extraOutputTokens: prediction === undefined ? 0 : Math.ceil(utf8Bytes(prediction) / BYTES_PER_TOKEN),
  };
}

/** Usage to meter when the provider reported none: the prompt estimate and the output seen. */
export function estimatedUsage(promptTokens: number, outputBytes: number): Usage {
  return {
    promptTokens,
    completionTokens: Math.ceil(outputBytes / 4),
    cachedPromptTokens: 0,
    cacheWriteTokens: 0,
    reasoningTokens: 0,
  };
}
