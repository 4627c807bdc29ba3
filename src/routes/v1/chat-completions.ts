import { Hono } from "hono";
import type { AppEnv } from "../../env";
import { GatewayError } from "../../errors";
import { chatCompletionRequestSchema } from "../../openai/schema";
import { readBody } from "../../lib/request-body";
import { costMicros, formatUsd } from "../../pricing/price";
import { agentKey, noteUnknownKey } from "../../proxy/agent-auth";
import { boundRequest, estimatedUsage } from "../../proxy/estimate";
import { unboundedField } from "../../proxy/unbounded-fields";
import { rateLimitHeaders } from "../../proxy/rate-headers";
import { callWithRotation } from "../../proxy/rotation";
import { translateStream } from "../../proxy/stream-response";
import { readCapped } from "../../proxy/upstream-body";
import { streamIdleTimeoutMs, upstreamTimeoutMs } from "../../proxy/upstream-call";
import { resolveModel } from "../../providers/registry";
import { type Usage, ZERO_USAGE } from "../../providers/types";

/** Output-token cap injected upstream when the client sent none and the key's policy is bounded. */
const DEFAULT_MAX_TOKENS = 4096;
/** A buffered answer larger than this is refused rather than held in the isolate's memory. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The provider's buffered JSON, read within the size cap and the upstream timeout. */
async function bufferedJson(response: Response, timeoutMs: number): Promise<unknown> {
  const body = await readCapped(response, MAX_RESPONSE_BYTES, timeoutMs);
  if (body.outcome === "timeout") throw new GatewayError("upstream_timeout", "The provider timed out.");
  if (body.outcome === "too_large") throw new GatewayError("upstream_error", "The provider's response is too large.");
  try {
    if (body.outcome === "complete") return JSON.parse(body.text) as unknown;
  } catch {
    // Not JSON: reported below like a broken body, and never echoed.
  }
  throw new GatewayError("upstream_error", "The provider returned a malformed response.");
}

export const chatCompletionsRoute = new Hono<AppEnv>();

/**
 * The hot path: auth with no I/O → one KeyGuard RPC (admit + reserve) → provider call with key
 * rotation → answer (streamed chunk by chunk) → settle after the last byte via waitUntil.
 */
chatCompletionsRoute.post("/", async (c) => {
  const started = Date.now();
  const key = await agentKey(c);
  const request = await readBody(c, chatCompletionRequestSchema);
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  const route = await resolveModel(c.env, request.model, waitUntil);
  const stream = request.stream === true;
  // The worst case of everything forwarded is what the KeyGuard reserves (issue 13: n, every field).
  const bound = boundRequest(request, route.model);
  const unbounded = unboundedField(request);
  const promptTokens = bound.promptTokens;
  const requestId = c.get("requestId");
  const guard = c.env.KEY_GUARD.getByName(key.id);

  const admission = await guard.admit({
    keyId: key.id,
    requestId,
    secretHash: key.secretHash,
    model: route.canonical,
    provider: route.provider,
    modelNames: route.names,
    promptTokens,
    maxTokens: bound.maxTokens,
    choices: bound.choices,
    extraOutputTokens: bound.extraOutputTokens,
    unbounded,
    defaultMaxTokens: DEFAULT_MAX_TOKENS,
    price: route.price,
    stream,
  });
  const rateHeaders = rateLimitHeaders(admission.rate);
  noteUnknownKey(key.id, admission);
  if (!admission.ok) {
    throw new GatewayError(admission.code, admission.message, {
      headers: rateHeaders,
      ...(admission.code === "invalid_request" && unbounded ? { param: unbounded.param } : {}),
      ...(admission.retryAfterMs === undefined ? {} : { retryAfterSeconds: admission.retryAfterMs / 1000 }),
    });
  }

  const settle = (status: number, usage: Usage | null, outputBytes = 0) => {
    const metered = usage ?? estimatedUsage(promptTokens, outputBytes);
    const cost = route.price ? costMicros(route.price, metered) : 0;
    waitUntil(
      guard.settle({
        requestId,
        status,
        promptTokens: metered.promptTokens,
        completionTokens: metered.completionTokens,
        costMicros: cost,
        latencyMs: Date.now() - started,
      }),
    );
    return cost;
  };

  const abort = new AbortController();
  try {
    const attempt = await callWithRotation(
      c.env,
      route,
      request,
      {
        model: route.model,
        baseUrl: route.baseUrl,
        stream,
        includeUsage: request.stream_options?.include_usage === true,
        defaultMaxTokens: admission.injectMaxTokens,
        requestId,
        created: Math.floor(started / 1000),
      },
      abort,
      upstreamTimeoutMs(c.env),
      waitUntil,
    );
    if (stream) {
      if (!attempt.response.body) throw new GatewayError("upstream_error", "The provider sent an empty stream.");
      const { body, done } = translateStream(attempt.response.body, route.adapter.createStreamTranslator(attempt.ctx), abort, {
        idleTimeoutMs: streamIdleTimeoutMs(c.env),
        clientGone: c.req.raw.signal,
      });
      waitUntil(done.then((outcome) => settle(outcome.status, outcome.usage, outcome.outputBytes)));
      return new Response(body, {
        headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...rateHeaders },
      });
    }
    const json = await bufferedJson(attempt.response, upstreamTimeoutMs(c.env));
    const result = route.adapter.parseResponse(json, attempt.ctx);
    // The answer's size matters only when the provider reported no usage: don't serialise it for nothing.
    const cost = settle(200, result.usage ?? estimatedUsage(promptTokens, JSON.stringify(result.body.choices).length));
    return c.json(result.body, 200, { ...rateHeaders, "x-keyforge-cost-usd": formatUsd(cost) });
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError("upstream_error", "The provider call failed.", { cause: err });
    Object.assign(error.headers, rateHeaders);
    settle(error.status, ZERO_USAGE);
    throw error;
  }
});
