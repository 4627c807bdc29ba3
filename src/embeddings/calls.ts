import { GatewayError } from "../errors";
import { openAiUser } from "../proxy/attribution";
import { type GatewayCall, noStream } from "../proxy/gateway-call";
import type { ResolvedModel } from "../providers/registry";
import { geminiEmbedRequest, geminiTexts, parseGeminiEmbeddings } from "./gemini";
import { openAiEmbeddingsUsage, openAiEmbedRequest } from "./openai";
import { type EmbeddingsRequest, estimateEmbeddingTokens } from "./schema";

/**
 * /v1/embeddings as a GatewayCall: OpenAI, OpenAI-compatible servers and the mock forward the
 * request as it is; Gemini is translated to embedContent / batchEmbedContents. Embeddings have no
 * output tokens: the reservation is the input estimate at the input price.
 */
export function embeddingsCall(request: EmbeddingsRequest, route: ResolvedModel): GatewayCall {
  if (route.adapter.kind === "anthropic") {
    throw new GatewayError("invalid_request", "Anthropic has no embeddings API; use an OpenAI, Gemini or OpenAI-compatible embedding model.", {
      param: "model",
    });
  }
  const estimate = estimateEmbeddingTokens(request.input);
  const gemini = route.adapter.kind === "gemini";
  if (gemini) geminiTexts(request);
  return {
    endpoint: "embeddings",
    route,
    stream: false,
    promptTokens: estimate,
    maxTokens: 0,
    user: openAiUser(request),
    rawBody: !gemini,
    build: (ctx) => (gemini ? geminiEmbedRequest(request, ctx) : openAiEmbedRequest(request, ctx)),
    parse: (json) => (gemini ? parseGeminiEmbeddings(json, request, estimate) : { body: json, usage: openAiEmbeddingsUsage(json, estimate) }),
    translator: noStream,
  };
}
