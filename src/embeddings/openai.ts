import * as z from "zod";
import { GatewayError } from "../errors";
import type { AdapterContext, UpstreamRequest, Usage } from "../providers/types";
import type { EmbeddingsRequest } from "./schema";

/**
 * OpenAI and OpenAI-compatible embeddings: forwarded with the model renamed, answered with the
 * upstream's own bytes; `usage.prompt_tokens` is metered (the input estimate when a server omits it).
 */

export function openAiEmbedRequest(request: EmbeddingsRequest, ctx: AdapterContext): UpstreamRequest {
  return {
    url: `${ctx.baseUrl}/embeddings`,
    headers: { authorization: `Bearer ${ctx.apiKey}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify({ ...request, model: ctx.model }),
  };
}

const answerSchema = z.looseObject({
  data: z.array(z.looseObject({ embedding: z.union([z.array(z.number()), z.string()]) })),
  usage: z.looseObject({ prompt_tokens: z.number().int().nonnegative() }).nullable().optional(),
});

export function openAiEmbeddingsUsage(json: unknown, estimate: number): Usage {
  const parsed = answerSchema.safeParse(json);
  if (!parsed.success) {
    throw new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: "openai: not an embeddings list" });
  }
  const promptTokens = parsed.data.usage?.prompt_tokens ?? estimate;
  return { promptTokens, completionTokens: 0, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 };
}
