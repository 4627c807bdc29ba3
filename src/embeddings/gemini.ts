import * as z from "zod";
import { GatewayError } from "../errors";
import type { AdapterContext, UpstreamRequest, Usage } from "../providers/types";
import { type EmbeddingsRequest, inputList } from "./schema";
import { float32Base64 } from "./vectors";

/**
 * OpenAI embeddings ⇄ Gemini `embedContent` (one text) / `batchEmbedContents` (a list). Gemini's
 * Developer API reports no token count for embeddings; when it does not, the request's input
 * estimate is metered and reported (the same upper-leaning rule the reservation used).
 */

/** Gemini refuses more requests than this in one batchEmbedContents call. */
export const GEMINI_MAX_BATCH = 100;

/** The inputs as texts, or a 400 for what Gemini cannot embed (checked before the request is admitted). */
export function geminiTexts(request: EmbeddingsRequest): string[] {
  const list = inputList(request.input);
  if (list.some((item) => typeof item !== "string")) {
    throw new GatewayError("invalid_request", "Gemini embeds text: send 'input' as a string or a list of strings, not token arrays.", { param: "input" });
  }
  if (list.length > GEMINI_MAX_BATCH) {
    throw new GatewayError("invalid_request", `Gemini embeds at most ${GEMINI_MAX_BATCH} inputs per request; split the list.`, { param: "input" });
  }
  return list as string[];
}

export function geminiEmbedRequest(request: EmbeddingsRequest, ctx: AdapterContext): UpstreamRequest {
  const model = ctx.model.replace(/^models\//, "");
  const list = geminiTexts(request);
  const one = (text: string) => ({
    model: `models/${model}`,
    content: { parts: [{ text }] },
    ...(request.dimensions !== undefined ? { outputDimensionality: request.dimensions } : {}),
  });
  const single = typeof request.input === "string";
  return {
    url: `${ctx.baseUrl}/v1beta/models/${encodeURIComponent(model)}:${single ? "embedContent" : "batchEmbedContents"}`,
    headers: { "x-goog-api-key": ctx.apiKey, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(single ? one(list[0]!) : { requests: list.map(one) }),
  };
}

const values = z.looseObject({ values: z.array(z.number()) });
const answerSchema = z.union([z.looseObject({ embedding: values }), z.looseObject({ embeddings: z.array(values) })]);
const usageSchema = z.looseObject({ usageMetadata: z.looseObject({ promptTokenCount: z.number().int().nonnegative() }) });

export function parseGeminiEmbeddings(json: unknown, request: EmbeddingsRequest, estimate: number): { body: unknown; usage: Usage } {
  const parsed = answerSchema.safeParse(json);
  let vectors: Array<{ values: number[] }> | null = null;
  if (parsed.success)
    vectors = "embedding" in parsed.data ? [parsed.data.embedding as { values: number[] }] : (parsed.data.embeddings as Array<{ values: number[] }>);
  if (!vectors || vectors.length !== inputList(request.input).length) {
    throw new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: "gemini: not an embeddings answer" });
  }
  const reported = usageSchema.safeParse(json);
  const promptTokens = reported.success ? reported.data.usageMetadata.promptTokenCount : estimate;
  const base64 = request.encoding_format === "base64";
  return {
    body: {
      object: "list",
      data: vectors.map((v, index) => ({ object: "embedding", index, embedding: base64 ? float32Base64(v.values) : v.values })),
      model: request.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    },
    usage: { promptTokens, completionTokens: 0, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 },
  };
}
