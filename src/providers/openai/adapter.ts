import * as z from "zod";
import { GatewayError } from "../../errors";
import type { ChatCompletion, CompletionUsage } from "../../openai/types";
import { retryAfterMsFromHeaders } from "../retry-after";
import type { ProviderAdapter, StreamTranslator, Usage } from "../types";
import { kindFromStatus, parseErrorBody, safeUpstreamType } from "../upstream-error";

/**
 * OpenAI and every OpenAI-compatible server. Requests pass through with the model renamed and
 * usage requested; responses pass through byte-for-byte apart from the usage chunk the client did
 * not ask for.
 */

const usageSchema = z.looseObject({
  prompt_tokens: z.number().int().nonnegative(),
  completion_tokens: z.number().int().nonnegative(),
  total_tokens: z.number().int().nonnegative().optional(),
  prompt_tokens_details: z.looseObject({ cached_tokens: z.number().int().nonnegative().optional() }).nullable().optional(),
  completion_tokens_details: z.looseObject({ reasoning_tokens: z.number().int().nonnegative().optional() }).nullable().optional(),
});

const completionSchema = z.looseObject({
  id: z.string(),
  object: z.literal("chat.completion").optional(),
  choices: z.array(z.looseObject({ index: z.number(), message: z.looseObject({}) })),
  usage: usageSchema.nullable().optional(),
});

export function usageFromOpenAi(usage: CompletionUsage | z.infer<typeof usageSchema>): Usage {
  return {
    promptTokens: usage.prompt_tokens,
    completionTokens: usage.completion_tokens,
    cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: 0,
    reasoningTokens: usage.completion_tokens_details?.reasoning_tokens ?? 0,
  };
}

const QUOTA_CODES = new Set(["insufficient_quota", "credit_balance_exhausted", "billing_hard_limit_reached"]);

/** True when some occurrence of `key` (a quoted JSON key) is not followed by exactly `:null`. */
function hasNonNull(data: string, key: string): boolean {
  for (let at = data.indexOf(key); at >= 0; at = data.indexOf(key, at + key.length)) {
    if (!data.startsWith(":null", at + key.length)) return true;
  }
  return false;
}

/**
 * Whether a chunk must be parsed: it may carry usage, a finish_reason or an error, or is not an
 * object. Most chunks are content deltas with `"usage":null` and `"finish_reason":null` (or neither):
 * those are forwarded unparsed, which is most of the pump's CPU. The test errs towards parsing:
 * - a real key "usage" / "finish_reason" / "error" is written either literally (then one of the
 *   occurrences found is it, and a value other than exactly `null` right after the colon, spaces
 *   included, counts as non-null) or with a `\u` escape (any `\u` parses: no other JSON escape
 *   spells a letter); a text value containing those words only costs a parse;
 * - `{`…`}` is required, so `null`, arrays, strings, numbers and most cut-off chunks are parsed (and fail).
 * Residual: a chunk of the shape `{…}` that is not valid JSON and names none of the three keys is
 * forwarded as sent, unvalidated — the upstream's own bytes, carrying no usage to lose, which the
 * client's SSE parser rejects as it would from the provider directly.
 */
function mustParse(data: string): boolean {
  return (
    data.charCodeAt(0) !== 0x7b ||
    data.charCodeAt(data.length - 1) !== 0x7d ||
    data.includes("\\u") ||
    data.includes('"error"') ||
    hasNonNull(data, '"usage"') ||
    hasNonNull(data, '"finish_reason"')
  );
}

function streamTranslator(includeUsage: boolean): StreamTranslator {
  let usage: Usage | null = null;
  let complete = false;
  return {
    push(event) {
      if (event.data === "[DONE]") {
        complete = true;
        return [];
      }
      // A content delta: nothing in it to meter, check or drop.
      if (!mustParse(event.data)) return [`data: ${event.data}\n\n`];
      // Parsed to validate it and to find the usage, but forwarded as the upstream's own text.
      // A chunk that is not JSON throws: the stream then ends with an error frame.
      const chunk = JSON.parse(event.data) as { choices?: Array<{ finish_reason?: unknown }>; usage?: unknown; error?: unknown } | null;
      // An error event from upstream is never forwarded (it may echo request data); nor is what is not a chunk object.
      if (chunk === null || typeof chunk !== "object" || Array.isArray(chunk) || chunk.error !== undefined) {
        throw new Error("upstream stream error");
      }
      if (chunk.choices?.some((c) => c.finish_reason)) complete = true;
      if (chunk.usage) {
        const parsed = usageSchema.safeParse(chunk.usage);
        if (parsed.success) usage = usageFromOpenAi(parsed.data);
        if (!includeUsage && Array.isArray(chunk.choices) && chunk.choices.length === 0) return [];
      }
      return [`data: ${event.data}\n\n`];
    },
    end() {
      // A stream cut before its finish_reason / [DONE] is a failure, not a short answer.
      if (!complete) throw new Error("upstream stream ended early");
      return ["data: [DONE]\n\n"];
    },
    usage: () => usage,
  };
}

export const openAiAdapter: ProviderAdapter = {
  kind: "openai",

  buildRequest(request, ctx) {
    const body: Record<string, unknown> = { ...request, model: ctx.model };
    if (ctx.stream) {
      body.stream_options = { ...(request.stream_options ?? {}), include_usage: true };
    }
    if (ctx.defaultMaxTokens !== null && request.max_tokens == null && request.max_completion_tokens == null) {
      body.max_completion_tokens = ctx.defaultMaxTokens;
    }
    return {
      url: `${ctx.baseUrl}/chat/completions`,
      headers: {
        authorization: `Bearer ${ctx.apiKey}`,
        "content-type": "application/json",
        accept: ctx.stream ? "text/event-stream" : "application/json",
      },
      body: JSON.stringify(body),
    };
  },

  parseResponse(json) {
    const parsed = completionSchema.safeParse(json);
    if (!parsed.success) {
      throw new GatewayError("upstream_error", "The provider returned a malformed response.", {
        detail: "openai: response does not match the chat.completion shape",
      });
    }
    const body = parsed.data as unknown as ChatCompletion;
    return { body, usage: parsed.data.usage ? usageFromOpenAi(parsed.data.usage) : null };
  },

  createStreamTranslator: (ctx) => streamTranslator(ctx.includeUsage),

  classifyError(status, headers, body) {
    const error = (parseErrorBody(body) as { error?: { type?: unknown; code?: unknown } } | null)?.error;
    const upstreamType = safeUpstreamType(error?.code) ?? safeUpstreamType(error?.type);
    let kind = kindFromStatus(status);
    if (status === 429 && (QUOTA_CODES.has(String(error?.code)) || QUOTA_CODES.has(String(error?.type)))) {
      kind = "quota_exhausted";
    }
    return { kind, retryAfterMs: retryAfterMsFromHeaders(headers, Date.now()), upstreamType };
  },
};
