import type { ProviderAdapter } from "../types";
import { classifyAnthropicError } from "./classify-error";
import { buildMessagesBody } from "./request-body";
import { parseMessage } from "./response";
import { AnthropicStreamTranslator } from "./stream";
import { ANTHROPIC_VERSION } from "./wire";

/** Anthropic Messages API (reference §2): pure translation between OpenAI Chat Completions and `/v1/messages`. */
export const anthropicAdapter: ProviderAdapter = {
  kind: "anthropic",

  buildRequest(request, ctx) {
    return {
      url: `${ctx.baseUrl}/v1/messages`,
      headers: {
        "x-api-key": ctx.apiKey,
        "anthropic-version": ANTHROPIC_VERSION,
        "content-type": "application/json",
        accept: ctx.stream ? "text/event-stream" : "application/json",
      },
      body: JSON.stringify(buildMessagesBody(request, ctx)),
    };
  },

  parseResponse: (json, ctx) => parseMessage(json, ctx),

  createStreamTranslator: (ctx) => new AnthropicStreamTranslator(ctx),

  classifyError: classifyAnthropicError,
};
