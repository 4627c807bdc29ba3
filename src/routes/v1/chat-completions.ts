import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { chatCall } from "../../openai/chat-call";
import { chatCompletionRequestSchema } from "../../openai/schema";
import { readBody } from "../../lib/request-body";
import { agentKey } from "../../proxy/agent-auth";
import { runGatewayCall } from "../../proxy/gateway-call";
import { resolveModel } from "../../providers/registry";

export const chatCompletionsRoute = new Hono<AppEnv>();

/**
 * The hot path: auth with no I/O → one KeyGuard RPC (admit + reserve) → provider call with key
 * rotation → answer (streamed chunk by chunk) → settle after the last byte via waitUntil
 * (src/proxy/gateway-call.ts, shared with every agent endpoint).
 */
chatCompletionsRoute.post("/", async (c) => {
  const key = await agentKey(c);
  const request = await readBody(c, chatCompletionRequestSchema);
  const route = await resolveModel(c.env, request.model, (p) => c.executionCtx.waitUntil(p));
  return runGatewayCall(c, key, chatCall(request, route));
});
