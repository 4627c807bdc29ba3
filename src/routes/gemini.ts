import type { Context } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import { countTokensCall, embedCall, generateCall, isGemini } from "../gemini-api/calls";
import type { ClientBody } from "../gemini-api/native";
import { batchEmbedContentsSchema, countTokensSchema, embedContentSchema, generateContentSchema } from "../gemini-api/schema";
import { geminiToChat } from "../gemini-api/to-chat";
import { parseWith, readJsonText } from "../lib/request-body";
import { agentKey } from "../proxy/agent-auth";
import { estimatePromptTokens } from "../proxy/estimate";
import { authorizeEstimate, runGatewayCall } from "../proxy/gateway-call";
import { resolveModel } from "../providers/registry";

/**
 * The Gemini API surface: `POST /v1beta/models/{model}:{method}` and the same under `/v1/models/`
 * (what @google/genai 3.x calls when given a base URL), for generateContent, streamGenerateContent
 * (`?alt=sse`), countTokens, embedContent and batchEmbedContents. The `vk_` key comes in
 * `x-goog-api-key` or `?key=`. Errors are rendered in Gemini's shape (src/gemini-api/errors.ts).
 * Registered for every method (so the other methods get a Gemini-shaped 405, not a 404).
 */

const METHODS = new Set(["generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents"]);
/** `/v1beta/models/<model>:<method>`; the model may contain `/` (`openai/gpt-4o-mini`, `mock/echo`). */
const TARGET = /^\/(?:v1beta|v1)\/models\/(.+):([A-Za-z]+)$/;

function target(c: Context<AppEnv>): { model: string; method: string } | null {
  const match = TARGET.exec(new URL(c.req.url).pathname);
  if (!match) return null;
  let model: string;
  try {
    model = decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
  return { model: model.replace(/^models\//, ""), method: match[2]! };
}

async function clientBody(c: Context<AppEnv>): Promise<ClientBody> {
  const { text, value } = await readJsonText(c);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new GatewayError("invalid_request", "Request body must be a JSON object.");
  return { text, json: value as Record<string, unknown> };
}

export async function geminiHandler(c: Context<AppEnv>): Promise<Response> {
  const found = target(c);
  // Not a model method (e.g. GET /v1/models/{id}): the family's own 404.
  if (!found) return c.notFound();
  const { model, method } = found;
  if (!METHODS.has(method)) throw new GatewayError("not_found", `Unknown method '${method}'.`);
  if (c.req.method !== "POST") throw new GatewayError("method_not_allowed", `Use POST for ':${method}'.`, { headers: { allow: "POST" } });
  const key = await agentKey(c, { google: true });
  const client = await clientBody(c);
  const route = await resolveModel(c.env, model, (p) => c.executionCtx.waitUntil(p));

  switch (method) {
    case "generateContent":
    case "streamGenerateContent": {
      const stream = method === "streamGenerateContent";
      // Without alt=sse Gemini streams one JSON array; the gateway streams server-sent events only.
      if (stream && new URL(c.req.url).searchParams.get("alt") !== "sse") {
        throw new GatewayError("invalid_request", "streamGenerateContent is served as server-sent events: add ?alt=sse.", { param: "alt" });
      }
      const request = parseWith(generateContentSchema, client.json);
      return runGatewayCall(c, key, generateCall(client, request, route, model, stream));
    }
    case "countTokens":
      return countTokens(c, key, client, route, model);
    case "embedContent":
      return runGatewayCall(c, key, embedCall(client, [parseWith(embedContentSchema, client.json)], false, route, model));
    default:
      return runGatewayCall(c, key, embedCall(client, parseWith(batchEmbedContentsSchema, client.json).requests, true, route, model));
  }
}

/**
 * Gemini models: Gemini counts (free there, rate-limited), so the call is admitted and audited with
 * nothing reserved or charged. Other models: the gateway's upper-bound estimate of the translated
 * request, said so in `x-keyforge-token-count: estimate`.
 */
async function countTokens(
  c: Context<AppEnv>,
  key: Awaited<ReturnType<typeof agentKey>>,
  client: ClientBody,
  route: Awaited<ReturnType<typeof resolveModel>>,
  model: string,
): Promise<Response> {
  const request = parseWith(countTokensSchema, client.json);
  if (isGemini(route)) return runGatewayCall(c, key, countTokensCall(client, route));
  const generate = request.generateContentRequest ?? (request.contents ? { contents: request.contents } : null);
  if (!generate) throw new GatewayError("invalid_request", "Send 'contents' or 'generateContentRequest'.", { param: "contents" });
  const chat = geminiToChat(generate, model, route.provider);
  const rateHeaders = await authorizeEstimate(c, key, route, model);
  return c.json({ totalTokens: estimatePromptTokens(chat, route.model) }, 200, { ...rateHeaders, "x-keyforge-token-count": "estimate" });
}
