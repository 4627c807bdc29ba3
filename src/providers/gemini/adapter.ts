import type { ProviderAdapter } from "../types";
import { classifyGeminiError } from "./classify-error";
import { buildGenerateContentBody } from "./request-body";
import { parseGenerateContent } from "./response";
import { GeminiStreamTranslator } from "./stream";

/** Gemini Developer API (reference §3): pure translation between OpenAI Chat Completions and `generateContent`. */
export const geminiAdapter: ProviderAdapter = {
  kind: "gemini",

  buildRequest(request, ctx) {
    // Clients may name models the way Google's SDKs do, with the resource prefix.
    const model = encodeURIComponent(ctx.model.replace(/^models\//, ""));
    const method = ctx.stream ? "streamGenerateContent?alt=sse" : "generateContent";
    return {
      url: `${ctx.baseUrl}/v1beta/models/${model}:${method}`,
      headers: {
        "x-goog-api-key": ctx.apiKey,
        "content-type": "application/json",
        accept: ctx.stream ? "text/event-stream" : "application/json",
      },
      body: JSON.stringify(buildGenerateContentBody(request, ctx)),
    };
  },

  parseResponse: (json, ctx) => parseGenerateContent(json, ctx),

  createStreamTranslator: (ctx) => new GeminiStreamTranslator(ctx),

  classifyError: classifyGeminiError,
};
