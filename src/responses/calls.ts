import { GatewayError } from "../errors";
import { openAiUser } from "../proxy/attribution";
import type { GatewayCall } from "../proxy/gateway-call";
import { pinToHomeScope } from "../proxy/home-scope";
import type { ResolvedModel } from "../providers/registry";
import type { AdapterContext } from "../providers/types";
import { estimateResponsesPromptTokens, unboundedResponsesField } from "./bounds";
import { ChatToResponsesStream } from "./chat-stream";
import { chatToResponse } from "./from-chat";
import { NativeResponsesStream, nativeResponsesRequest, storedStateParam, usageFromResponses } from "./native";
import { newId, type ResponseFrame } from "./response-object";
import type { ResponsesRequest } from "./schema";
import { responsesToChat } from "./to-chat";

/**
 * /v1/responses as a GatewayCall: OpenAI models go to OpenAI's Responses API untouched (native);
 * every other provider is translated to Chat Completions and back through its chat adapter.
 */

/** Providers with a Responses API of their own. Custom OpenAI-compatible servers rarely have one. */
const NATIVE = new Set(["openai"]);

export function responsesCall(request: ResponsesRequest, route: ResolvedModel): GatewayCall {
  // Background responses are fetched later with GET /v1/responses/{id}, which KeyForge does not
  // serve, and their usage never reaches the create call: nothing could be metered.
  if (request.background) {
    throw new GatewayError("invalid_request", "'background' responses are not supported through KeyForge; stream instead.", { param: "background" });
  }
  return NATIVE.has(route.provider) ? nativeCall(request, route) : translatedCall(request, route);
}

function bounds(request: ResponsesRequest, route: ResolvedModel) {
  return { promptTokens: estimateResponsesPromptTokens(request, route.model), maxTokens: request.max_output_tokens ?? null, user: openAiUser(request) };
}

function nativeCall(request: ResponsesRequest, route: ResolvedModel): GatewayCall {
  const stateParam = storedStateParam(request);
  // Creating stored state (store defaults to true) pins too, so that the follow-up finds it.
  const stateful = stateParam !== null || request.store !== false;
  return {
    endpoint: "responses",
    route,
    stream: request.stream === true,
    usageShape: "responses",
    ...bounds(request, route),
    unbounded: unboundedResponsesField(request, stateParam),
    ...(stateful ? { pickKeys: pinToHomeScope(route.provider) } : {}),
    rawBody: true,
    build: (ctx) => nativeResponsesRequest(request, ctx),
    parse(json) {
      if (json === null || typeof json !== "object" || (json as { object?: unknown }).object !== "response") {
        throw new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: "openai: not a Response object" });
      }
      return { body: json, usage: usageFromResponses((json as { usage?: unknown }).usage) };
    },
    translator: () => new NativeResponsesStream(),
  };
}

function translatedCall(request: ResponsesRequest, route: ResolvedModel): GatewayCall {
  const chat = responsesToChat(request);
  const id = newId("resp");
  const frame = (ctx: AdapterContext): ResponseFrame => ({ id, createdAt: ctx.created, request });
  return {
    endpoint: "responses",
    route,
    stream: request.stream === true,
    usageShape: "responses",
    ...bounds(request, route),
    unbounded: unboundedResponsesField(request, null),
    // The chat adapters then emit the usage chunk the terminal event needs.
    includeUsage: true,
    build: (ctx) => route.adapter.buildRequest(chat, ctx),
    parse(json, ctx) {
      const result = route.adapter.parseResponse(json, ctx);
      return { body: chatToResponse(result.body, result.usage, frame(ctx)), usage: result.usage };
    },
    translator: (ctx) => new ChatToResponsesStream(route.adapter.createStreamTranslator(ctx), frame(ctx)),
  };
}
