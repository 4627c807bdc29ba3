import type { Context } from "hono";
import type { AppEnv } from "../env";
import { GatewayError } from "../errors";
import type { Endpoint, SettleRequest } from "../keys/types";
import { costMicros, formatUsd, usdNumber } from "../pricing/price";
import type { ResolvedModel } from "../providers/registry";
import { type AdapterContext, type StreamTranslator, type UpstreamFailure, type UpstreamRequest, type Usage, ZERO_USAGE } from "../providers/types";
import { isModelAllowed } from "../policy/model-glob";
import { type AgentKey, noteUnknownKey } from "./agent-auth";
import { boundUser, parseTags, TAGS_HEADER } from "./attribution";
import { estimatedUsage } from "./estimate";
import { rateLimitHeaders } from "./rate-headers";
import { queueSettle, takeSettles } from "./settle-batch";
import type { KeySet } from "./key-source";
import { callWithRotation } from "./rotation";
import { translateStream } from "./stream-response";
import { costComment, costingTranslator, type UsageShape, withUsageCost } from "./usage-cost";
import type { UnboundedField } from "./unbounded-fields";
import { readCapped } from "./upstream-body";
import { streamIdleTimeoutMs, upstreamTimeoutMs } from "./upstream-call";

export type { Endpoint } from "../keys/types";

/**
 * The hot path every agent endpoint shares: auth (done by the caller) → one KeyGuard RPC (admit +
 * worst-case reservation) → provider call with pooled-key rotation → buffered or streamed answer →
 * settle after the last byte, batched per key (settle-batch.ts). An endpoint is a small module that
 * says how to build the upstream request, read its answer and translate its stream; admission,
 * metering, audit, rate-limit and cost headers live here once.
 */
export interface GatewayCall {
  endpoint: Endpoint;
  /** resolveModel(env, model). */
  route: ResolvedModel;
  stream: boolean;
  /** Upper bound of the input tokens (src/proxy/estimate.ts). */
  promptTokens: number;
  /** Worst-case output the client allowed (per choice when `choices` is set, else the whole); null when it set none. */
  maxTokens: number | null;
  /**
   * For chat's `n` and predicted outputs: `maxTokens` is then per choice and the reservation is
   * choices × cap + extra, so a cap injected for a request without one is per choice. Default 1 and 0.
   */
  choices?: number;
  extraOutputTokens?: number;
  /** The upstream request for one pooled key; called again with the next key on rotation. */
  build(ctx: AdapterContext): UpstreamRequest;
  /** A buffered answer: the client body and the usage to meter (null: none reported, an estimate is metered). */
  parse(json: unknown, ctx: AdapterContext): { body: unknown; usage: Usage | null };
  /** A streamed answer: upstream SSE events → client frames (identity-ish for a native passthrough). */
  translator(ctx: AdapterContext): StreamTranslator;
  /** Upstream error → failure kind; default `route.adapter.classifyError`. */
  classifyError?(status: number, headers: Headers, body: string): UpstreamFailure;
  /** Where the final usage travels in this call's stream, for its `cost` (src/proxy/usage-cost.ts); default "chat". */
  usageShape?: UsageShape;
  /** `ctx.includeUsage` for the adapters (chat's `stream_options.include_usage`); default false. */
  includeUsage?: boolean;
  /**
   * A buffered answer goes to the client as the upstream's own bytes (`parse` is then used for
   * usage only): native passthrough, where re-serialising could alter what must round-trip exactly.
   */
  rawBody?: boolean;
  /** A forwarded field whose cost cannot be bounded: refused (400 naming it) on a key with a cap of that kind. */
  unbounded?: UnboundedField | null;
  /** Narrows the provider's key pool for this call (stored state lives in one scope: home-scope.ts). */
  pickKeys?: (keys: KeySet) => KeySet;
  /** The end-user id the request names (OpenAI `user`, Anthropic `metadata.user_id`), as sent: bounded here (attribution.ts). */
  user?: unknown;
}

/** The output bound the gateway added to a request that set none (issue 18). */
export const MAX_TOKENS_HEADER = "x-keyforge-max-tokens";

/** A parsed (translated) answer with `cost` in its usage object, when it has one. */
function bodyWithCost(body: unknown, usd: number): object {
  const usage = (body as { usage?: unknown } | null)?.usage;
  if (usage === null || typeof usage !== "object" || Array.isArray(usage)) return body as object;
  return { ...(body as object), usage: { ...usage, cost: usd } };
}

/** A buffered answer larger than this is refused rather than held in the isolate's memory. */
const MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** The provider's buffered answer, read within the size cap and the upstream timeout. */
async function bufferedText(response: Response, timeoutMs: number): Promise<{ text: string; json: unknown }> {
  const body = await readCapped(response, MAX_RESPONSE_BYTES, timeoutMs);
  if (body.outcome === "timeout") throw new GatewayError("upstream_timeout", "The provider timed out.");
  if (body.outcome === "too_large") throw new GatewayError("upstream_error", "The provider's response is too large.");
  try {
    if (body.outcome === "complete") return { text: body.text, json: JSON.parse(body.text) as unknown };
  } catch {
    // Not JSON: reported below like a broken body, and never echoed.
  }
  throw new GatewayError("upstream_error", "The provider returned a malformed response.");
}

/**
 * Runs one admitted call. Throws GatewayError for denials and failures (the route renders them in
 * its own family's shape); every admitted request is settled exactly once, failures at zero cost.
 */
export async function runGatewayCall(c: Context<AppEnv>, key: AgentKey, call: GatewayCall): Promise<Response> {
  const started = Date.now();
  const { route, stream, promptTokens } = call;
  const requestId = c.get("requestId");
  const waitUntil = (p: Promise<unknown>) => c.executionCtx.waitUntil(p);
  const guard = c.env.KEY_GUARD.getByName(key.id);
  // Attribution: audited and rolled up by the KeyGuard; never part of policy matching.
  const tags = parseTags(c.req.header(TAGS_HEADER));
  const user = await boundUser(call.user);

  // Settles of this key's earlier requests still waiting in this isolate ride along with the admit.
  const queue = (settle: SettleRequest) => {
    const delivery = queueSettle(key.id, () => guard, settle);
    if (delivery) waitUntil(delivery);
  };
  const carried = takeSettles(key.id);
  const admission = await guard
    .admit({
      keyId: key.id,
      requestId,
      secretHash: key.secretHash,
      endpoint: call.endpoint,
      model: route.canonical,
      provider: route.provider,
      modelNames: route.names,
      promptTokens,
      maxTokens: call.maxTokens,
      ...(call.choices === undefined ? {} : { choices: call.choices }),
      ...(call.extraOutputTokens === undefined ? {} : { extraOutputTokens: call.extraOutputTokens }),
      unbounded: call.unbounded ?? null,
      // The default output bound is the model's maximum (src/policy/admission.ts); Anthropic needs one sent.
      modelMaxTokens: route.maxOutputTokens,
      maxTokensRequired: route.adapter.kind === "anthropic",
      price: route.price,
      stream,
      ...(user === null ? {} : { user }),
      ...(tags.length === 0 ? {} : { tags }),
      ...(carried === undefined ? {} : { settles: carried }),
    })
    .catch((error: unknown) => {
      // Sent again with the next batch: a settle the object already applied is a no-op.
      carried?.forEach(queue);
      throw error;
    });
  const rateHeaders = rateLimitHeaders(admission.rate);
  noteUnknownKey(key.id, admission);
  if (!admission.ok) {
    throw new GatewayError(admission.code, admission.message, {
      headers: rateHeaders,
      ...(admission.code === "invalid_request" && call.unbounded ? { param: call.unbounded.param } : {}),
      ...(admission.retryAfterMs === undefined ? {} : { retryAfterSeconds: admission.retryAfterMs / 1000 }),
    });
  }

  // One pricing for the charge, usage.cost and the cost header / comment: they always agree.
  const priced = (usage: Usage) => (route.price ? costMicros(route.price, usage) : 0);
  const settle = (status: number, usage: Usage | null, outputBytes = 0) => {
    const metered = usage ?? estimatedUsage(promptTokens, outputBytes);
    const cost = priced(metered);
    queue({
      requestId,
      status,
      promptTokens: metered.promptTokens,
      completionTokens: metered.completionTokens,
      costMicros: cost,
      latencyMs: Date.now() - started,
    });
    return cost;
  };

  // A bound the gateway added to the request is never silent: the agent sees it (and the audit entry holds it).
  const boundHeader: Record<string, string> = admission.injectMaxTokens === null ? {} : { [MAX_TOKENS_HEADER]: String(admission.injectMaxTokens) };
  const abort = new AbortController();
  const timeoutMs = upstreamTimeoutMs(c.env);
  try {
    const attempt = await callWithRotation(
      c.env,
      route,
      (ctx) => call.build(ctx),
      {
        model: route.model,
        baseUrl: route.baseUrl,
        stream,
        includeUsage: call.includeUsage === true,
        defaultMaxTokens: admission.injectMaxTokens,
        requestId,
        created: Math.floor(started / 1000),
      },
      abort,
      timeoutMs,
      waitUntil,
      call.classifyError ? (status, headers, body) => call.classifyError!(status, headers, body) : undefined,
      call.pickKeys,
    );
    if (stream) {
      if (!attempt.response.body) throw new GatewayError("upstream_error", "The provider sent an empty stream.");
      const translator = costingTranslator(call.translator(attempt.ctx), call.usageShape ?? "chat", priced);
      const { body, done } = translateStream(attempt.response.body, translator, abort, {
        idleTimeoutMs: streamIdleTimeoutMs(c.env),
        clientGone: c.req.raw.signal,
        trailer: (usage, outputBytes) => costComment(priced(usage ?? estimatedUsage(promptTokens, outputBytes))),
      });
      waitUntil(done.then((outcome) => settle(outcome.status, outcome.usage, outcome.outputBytes)));
      return new Response(body, {
        headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", ...rateHeaders, ...boundHeader },
      });
    }
    const answer = await bufferedText(attempt.response, timeoutMs);
    const result = call.parse(answer.json, attempt.ctx);
    // The answer's size matters only when the provider reported no usage: don't serialise it for nothing.
    const cost = settle(200, result.usage ?? estimatedUsage(promptTokens, call.rawBody ? answer.text.length : JSON.stringify(result.body).length));
    const headers = { ...rateHeaders, ...boundHeader, "x-keyforge-cost-usd": formatUsd(cost) };
    if (call.rawBody) {
      // The provider's bytes with only `usage.cost` spliced in (src/proxy/usage-cost.ts).
      const text = withUsageCost(answer.text, ["usage"], usdNumber(cost)) ?? answer.text;
      return new Response(text, { status: 200, headers: { "content-type": "application/json", ...headers } });
    }
    return c.json(bodyWithCost(result.body, usdNumber(cost)), 200, headers);
  } catch (err) {
    const error = err instanceof GatewayError ? err : new GatewayError("upstream_error", "The provider call failed.", { cause: err });
    Object.assign(error.headers, rateHeaders);
    settle(error.status, ZERO_USAGE);
    throw error;
  }
}

/**
 * A provider's own token counter (Anthropic count_tokens, Gemini countTokens) as a GatewayCall:
 * admitted like a completion (revocation, allow-list, rate limits) and audited, but nothing is
 * reserved or charged. `check` throws on an answer that is not a count; the body goes back as sent.
 */
export function tokenCountCall(route: ResolvedModel, build: GatewayCall["build"], check: (json: unknown) => unknown): GatewayCall {
  return {
    endpoint: "count_tokens",
    route,
    stream: false,
    promptTokens: 0,
    maxTokens: 0,
    build,
    parse: (json) => {
      check(json);
      return { body: json, usage: ZERO_USAGE };
    },
    rawBody: true,
    translator: noStream,
  };
}

/** The translator of a call that never streams (token counts, embeddings). */
export const noStream = (): StreamTranslator => {
  throw new GatewayError("internal_error", "This call does not stream.");
};

/**
 * A gateway-side token estimate (count_tokens / countTokens for a model whose provider has no
 * counter): the key is checked (revocation, expiry, allow-list) without reserving or auditing
 * anything, since nothing is sent upstream. Returns the rate-limit headers for the answer.
 */
export async function authorizeEstimate(c: Context<AppEnv>, key: AgentKey, route: ResolvedModel, model: string): Promise<Record<string, string>> {
  const auth = await c.env.KEY_GUARD.getByName(key.id).authorize(key.id, key.secretHash);
  noteUnknownKey(key.id, auth);
  if (!auth.ok) throw new GatewayError(auth.code, auth.message);
  if (!isModelAllowed(auth.models, route.names)) throw new GatewayError("model_not_allowed", `This API key may not use the model '${model}'.`);
  return rateLimitHeaders(auth.rate);
}
