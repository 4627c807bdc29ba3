import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { readBody } from "../../lib/request-body";
import { agentKey } from "../../proxy/agent-auth";
import { runGatewayCall } from "../../proxy/gateway-call";
import { resolveModel } from "../../providers/registry";
import { responsesCall } from "../../responses/calls";
import { responsesRequestSchema } from "../../responses/schema";

/** `POST /v1/responses` (OpenAI Responses API): Codex CLI, the OpenAI Agents SDK, the Vercel AI SDK. */
export const responsesRoute = new Hono<AppEnv>();

responsesRoute.post("/", async (c) => {
  const key = await agentKey(c);
  const request = await readBody(c, responsesRequestSchema);
  const route = await resolveModel(c.env, request.model, (p) => c.executionCtx.waitUntil(p));
  return runGatewayCall(c, key, responsesCall(request, route));
});
