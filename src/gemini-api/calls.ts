import { GatewayError } from "../errors";
import { openAiEmbedRequest } from "../embeddings/openai";
import { estimateEmbeddingTokens } from "../embeddings/schema";
import { type GatewayCall, noStream, tokenCountCall } from "../proxy/gateway-call";
import { estimatePromptTokens } from "../proxy/estimate";
import { unboundedField } from "../proxy/unbounded-fields";
import type { ResolvedModel } from "../providers/registry";
import { ZERO_USAGE } from "../providers/types";
import { estimateGeminiPromptTokens, outputBound, unboundedGeminiField } from "./bounds";
import { ChatToGeminiStream, chatToGemini } from "./from-chat";
import { type ClientBody, NativeGeminiStream, nativeCount, nativeEmbedUsage, nativeRequest, nativeUsage } from "./native";
import type { EmbedRequest, GenerateContentRequest } from "./schema";
import { geminiToChat } from "./to-chat";

/**
 * The Gemini surface as GatewayCalls: Gemini models go to Gemini untouched (native); every other
 * model is translated to Chat Completions and back through its chat adapter. Same admission
 * (worst-case reservation: maxOutputTokens × candidateCount), pools, metering and audit as every
 * endpoint, through src/proxy/gateway-call.ts.
 */

export const isGemini = (route: ResolvedModel) => route.adapter.kind === "gemini";

export function generateCall(client: ClientBody, request: GenerateContentRequest, route: ResolvedModel, model: string, stream: boolean): GatewayCall {
  const { maxTokens, choices } = outputBound(request);
  const base = { endpoint: "generate_content" as const, route, stream, maxTokens, choices };
  if (isGemini(route)) {
    return {
      ...base,
      promptTokens: estimateGeminiPromptTokens(client.json, route.model),
      unbounded: unboundedGeminiField(request),
      build: (ctx) => nativeRequest(client, stream ? "streamGenerateContent" : "generateContent", ctx),
      parse: (json) => ({ body: json, usage: nativeUsage(json) }),
      rawBody: true,
      translator: () => new NativeGeminiStream(),
    };
  }
  const chat = geminiToChat(request, model, route.provider);
  if (stream) chat.stream = true;
  return {
    ...base,
    // Bounded as the chat request that is forwarded (the same estimate the chat route uses).
    promptTokens: estimatePromptTokens(chat, route.model),
    unbounded: unboundedField(chat),
    build: (ctx) => route.adapter.buildRequest(chat, ctx),
    parse: (json, ctx) => {
      const result = route.adapter.parseResponse(json, ctx);
      return { body: chatToGemini(result.body, result.usage, model, ctx), usage: result.usage };
    },
    // The usage chunk is needed for the final chunk's usageMetadata; the translation consumes it.
    includeUsage: true,
    translator: (ctx) => new ChatToGeminiStream(route.adapter.createStreamTranslator(ctx), model, ctx),
  };
}

/** countTokens for a Gemini model: admitted (revocation, allow-list, RPM) and audited, nothing reserved or charged. */
export const countTokensCall = (client: ClientBody, route: ResolvedModel): GatewayCall =>
  tokenCountCall(route, (ctx) => nativeRequest(client, "countTokens", ctx), nativeCount);

const textsOf = (requests: EmbedRequest[]): string[] =>
  requests.map((r, i) =>
    r.content.parts
      .map((p, j) => {
        if (p.text === undefined)
          throw new GatewayError("invalid_request", "Only text parts can be embedded.", { param: `requests[${i}].content.parts[${j}]` });
        return p.text;
      })
      .join(""),
  );

/**
 * embedContent / batchEmbedContents: Gemini models natively; OpenAI and OpenAI-compatible models
 * through their embeddings API, answered in Gemini's shape. Embeddings have no output tokens.
 */
export function embedCall(client: ClientBody, requests: EmbedRequest[], batch: boolean, route: ResolvedModel, model: string): GatewayCall {
  if (route.adapter.kind === "anthropic") {
    throw new GatewayError("invalid_request", "Anthropic has no embeddings API; use a Gemini, OpenAI or OpenAI-compatible embedding model.", {
      param: "model",
    });
  }
  const texts = textsOf(requests);
  const estimate = estimateEmbeddingTokens(texts);
  const base = { endpoint: "embeddings" as const, route, stream: false, promptTokens: estimate, maxTokens: 0, translator: noStream };
  if (isGemini(route)) {
    return {
      ...base,
      rawBody: true,
      build: (ctx) => nativeRequest(client, batch ? "batchEmbedContents" : "embedContent", ctx),
      parse: (json) => ({ body: json, usage: nativeEmbedUsage(json, estimate) }),
    };
  }
  const dimensions = requests[0]?.outputDimensionality;
  const openAi = { model, input: texts, encoding_format: "float" as const, ...(dimensions !== undefined ? { dimensions } : {}) };
  return {
    ...base,
    build: (ctx) => openAiEmbedRequest(openAi, ctx),
    parse: (json) => {
      const data = (json as { data?: Array<{ embedding?: unknown; index?: number }> } | null)?.data;
      if (!Array.isArray(data) || data.length !== texts.length || !data.every((d) => Array.isArray(d.embedding))) {
        throw new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: "openai: not an embeddings list" });
      }
      const ordered = [...data].sort((a, b) => (a.index ?? 0) - (b.index ?? 0)).map((d) => ({ values: d.embedding as number[] }));
      const reported = (json as { usage?: { prompt_tokens?: unknown } }).usage?.prompt_tokens;
      const promptTokens = typeof reported === "number" ? reported : estimate;
      return { body: batch ? { embeddings: ordered } : { embedding: ordered[0] }, usage: { ...ZERO_USAGE, promptTokens } };
    },
  };
}
