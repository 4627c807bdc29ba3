import type { GatewayCall } from "../proxy/gateway-call";
import { openAiUser } from "../proxy/attribution";
import { boundRequest } from "../proxy/estimate";
import { unboundedField } from "../proxy/unbounded-fields";
import type { ResolvedModel } from "../providers/registry";
import type { ChatCompletionRequest } from "./schema";

/**
 * /v1/chat/completions as a GatewayCall: every provider's adapter builds its own wire request from
 * the chat request and turns the answer (buffered or streamed) back into chat completions.
 */
export function chatCall(request: ChatCompletionRequest, route: ResolvedModel): GatewayCall {
  // The worst case of everything forwarded is what the KeyGuard reserves (n, every field).
  const bound = boundRequest(request, route.model);
  return {
    endpoint: "chat",
    route,
    stream: request.stream === true,
    promptTokens: bound.promptTokens,
    maxTokens: bound.maxTokens,
    choices: bound.choices,
    extraOutputTokens: bound.extraOutputTokens,
    unbounded: unboundedField(request),
    includeUsage: request.stream_options?.include_usage === true,
    user: openAiUser(request),
    build: (ctx) => route.adapter.buildRequest(request, ctx),
    parse: (json, ctx) => route.adapter.parseResponse(json, ctx),
    translator: (ctx) => route.adapter.createStreamTranslator(ctx),
  };
}
