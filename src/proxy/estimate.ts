import type { ChatCompletionRequest } from "../openai/schema";
import type { Usage } from "../providers/types";

/**
 * Upper-leaning prompt-token estimate for reservations. Tokenizers average ~4 bytes of English per
 * token and ~3 bytes (one CJK character) at worst, so UTF-8 bytes / 3 rarely under-counts; images
 * count a fixed amount instead of their base64 size.
 */
const IMAGE_TOKENS = 2_000;
const PER_MESSAGE_TOKENS = 4;

const encoder = new TextEncoder();
const bytes = (text: string) => encoder.encode(text).byteLength;

function contentBytes(content: unknown): { bytes: number; images: number } {
  if (typeof content === "string") return { bytes: bytes(content), images: 0 };
  if (!Array.isArray(content)) return { bytes: 0, images: 0 };
  let total = 0;
  let images = 0;
  for (const part of content as Array<Record<string, unknown>>) {
    if (part.type === "image_url") images += 1;
    else total += bytes(JSON.stringify(part));
  }
  return { bytes: total, images };
}

export function estimatePromptTokens(request: ChatCompletionRequest): number {
  let total = 0;
  let images = 0;
  for (const message of request.messages) {
    const c = contentBytes(message.content);
    total += c.bytes + PER_MESSAGE_TOKENS * 3;
    images += c.images;
    if (message.role === "assistant" && message.tool_calls) total += bytes(JSON.stringify(message.tool_calls));
  }
  if (request.tools) total += bytes(JSON.stringify(request.tools));
  if (request.response_format) total += bytes(JSON.stringify(request.response_format));
  return Math.ceil(total / 3) + images * IMAGE_TOKENS;
}

/** The client's output cap, whichever field carried it. */
export function requestedMaxTokens(request: ChatCompletionRequest): number | null {
  return request.max_completion_tokens ?? request.max_tokens ?? null;
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
