import { Hono } from "hono";
import { embeddingsCall } from "../../embeddings/calls";
import { embeddingsRequestSchema } from "../../embeddings/schema";
import type { AppEnv } from "../../env";
import { readBody } from "../../lib/request-body";
import { agentKey } from "../../proxy/agent-auth";
import { runGatewayCall } from "../../proxy/gateway-call";
import { resolveModel } from "../../providers/registry";

/** `POST /v1/embeddings` (OpenAI shape) for OpenAI, Gemini and OpenAI-compatible providers. */
export const embeddingsRoute = new Hono<AppEnv>();

embeddingsRoute.post("/", async (c) => {
  const key = await agentKey(c);
  const request = await readBody(c, embeddingsRequestSchema);
  const route = await resolveModel(c.env, request.model, (p) => c.executionCtx.waitUntil(p));
  return runGatewayCall(c, key, embeddingsCall(request, route));
});
