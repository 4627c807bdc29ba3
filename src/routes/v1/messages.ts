import { Hono } from "hono";
import type { Context } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { parseWith, readJsonText } from "../../lib/request-body";
import { estimateMessagesPromptTokens, unboundedMessagesField } from "../../messages/bounds";
import { ChatToMessagesStream, chatToMessage } from "../../messages/from-chat";
import { type ClientRequest, NativeStream, nativeCount, nativeMessageUsage, nativeRequest } from "../../messages/native";
import { countTokensRequestSchema, messagesRequestSchema } from "../../messages/schema";
import { messagesToChat } from "../../messages/to-chat";
import { agentKey } from "../../proxy/agent-auth";
import { estimatePromptTokens } from "../../proxy/estimate";
import { authorizeEstimate, type GatewayCall, runGatewayCall, tokenCountCall } from "../../proxy/gateway-call";
import { unboundedField } from "../../proxy/unbounded-fields";
import { resolveModel, type ResolvedModel } from "../../providers/registry";

/**
 * Anthropic's Messages API (`/v1/messages`, `/v1/messages/count_tokens`, also as `?beta=true`, the
 * way Claude Code calls them): Claude models forwarded natively, every other model translated through
 * its chat adapter. Both go through the shared hot path (src/proxy/gateway-call.ts); errors are
 * rendered in Anthropic's shape (src/messages/errors.ts).
 */
export const messagesRoute = new Hono<AppEnv>();

async function clientRequest(c: Context<AppEnv>): Promise<ClientRequest> {
  const { text, value } = await readJsonText(c);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new GatewayError("invalid_request", "Request body must be a JSON object.");
  return { text, json: value as Record<string, unknown>, version: c.req.header("anthropic-version") ?? null, beta: c.req.header("anthropic-beta") ?? null };
}

const waitUntilOf = (c: Context<AppEnv>) => (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
const isClaude = (route: ResolvedModel) => route.adapter.kind === "anthropic";

/** Anthropic puts the request id in `request-id` on every response; the SDK reads it from there. */
async function withRequestId(c: Context<AppEnv>, response: Promise<Response>): Promise<Response> {
  const res = await response;
  res.headers.set("request-id", c.get("requestId"));
  return res;
}

messagesRoute.post("/", async (c) => {
  const key = await agentKey(c, { xApiKey: true });
  const client = await clientRequest(c);
  const request = parseWith(messagesRequestSchema, client.json);
  const route = await resolveModel(c.env, request.model, waitUntilOf(c));
  const stream = request.stream === true;
  // max_tokens is required and bounds thinking too: the output side of the reservation is exact.
  // Claude Code names its user in `metadata.user_id`: attribution (src/proxy/attribution.ts).
  const base = {
    endpoint: "messages" as const,
    route,
    stream,
    maxTokens: request.max_tokens,
    user: request.metadata?.user_id,
    usageShape: "messages" as const,
  };

  if (isClaude(route)) {
    const call: GatewayCall = {
      ...base,
      promptTokens: estimateMessagesPromptTokens(request, route.model),
      unbounded: unboundedMessagesField(client.json as typeof request),
      build: (ctx) => nativeRequest(client, "/v1/messages", ctx),
      parse: (json) => ({ body: json, usage: nativeMessageUsage(json) }),
      rawBody: true,
      translator: () => new NativeStream(),
    };
    return withRequestId(c, runGatewayCall(c, key, call));
  }

  const chat = messagesToChat(request, route.provider);
  const call: GatewayCall = {
    ...base,
    // Bounded as the chat request that is forwarded (the same estimate the chat route uses).
    promptTokens: estimatePromptTokens(chat, route.model),
    unbounded: unboundedField(chat),
    build: (ctx) => route.adapter.buildRequest(chat, ctx),
    parse: (json, ctx) => {
      const result = route.adapter.parseResponse(json, ctx);
      return { body: chatToMessage(result.body, result.usage, request.model, ctx), usage: result.usage };
    },
    // The usage chunk is needed for the final message_delta; the translation consumes it.
    includeUsage: true,
    translator: (ctx) => new ChatToMessagesStream(route.adapter.createStreamTranslator(ctx), request.model, ctx),
  };
  return withRequestId(c, runGatewayCall(c, key, call));
});

/**
 * Claude: Anthropic counts (free there, RPM-limited), so the call is admitted (revocation, allow-list,
 * RPM) and audited, with nothing reserved or charged. Other models have no such endpoint: the answer
 * is the gateway's upper-bound estimate, said so in `x-keyforge-token-count: estimate`.
 */
messagesRoute.post("/count_tokens", async (c) => {
  const key = await agentKey(c, { xApiKey: true });
  const client = await clientRequest(c);
  const request = parseWith(countTokensRequestSchema, client.json);
  const route = await resolveModel(c.env, request.model, waitUntilOf(c));

  if (isClaude(route)) {
    return withRequestId(
      c,
      runGatewayCall(
        c,
        key,
        tokenCountCall(route, (ctx) => nativeRequest(client, "/v1/messages/count_tokens", ctx), nativeCount),
      ),
    );
  }

  const rateHeaders = await authorizeEstimate(c, key, route, request.model);
  const inputTokens = estimateMessagesPromptTokens(request, route.model);
  return c.json({ input_tokens: inputTokens }, 200, {
    ...rateHeaders,
    "x-keyforge-token-count": "estimate",
    "request-id": c.get("requestId"),
  });
});
