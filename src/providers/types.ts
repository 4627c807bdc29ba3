import type { ChatCompletionRequest } from "../openai/schema";
import type { ChatCompletion } from "../openai/types";

/**
 * The adapter contract: one folder per provider, each exporting a `ProviderAdapter`. Adapters are
 * pure (no fetch, no bindings): the proxy core does the I/O, key rotation, metering and errors.
 */

export type AdapterKind = "openai" | "anthropic" | "gemini";

/** Token usage normalised to OpenAI semantics: cached ⊂ prompt, reasoning ⊂ completion. */
export interface Usage {
  /** Every input token, including cache reads and cache writes. */
  promptTokens: number;
  /** Every output token, including reasoning / thinking tokens. */
  completionTokens: number;
  /** Input tokens served from the provider's prompt cache (subset of promptTokens). */
  cachedPromptTokens: number;
  /** Input tokens written to the prompt cache (subset of promptTokens; Anthropic bills them). */
  cacheWriteTokens: number;
  /** The part of cacheWriteTokens written for 1 hour (Anthropic bills them at 2× input); absent = none. */
  cacheWrite1hTokens?: number;
  /** Reasoning / thinking tokens (subset of completionTokens). */
  reasoningTokens: number;
}

export interface AdapterContext {
  /** Model id as the upstream knows it (the `provider/` prefix removed). */
  model: string;
  /** Provider base URL without a trailing slash, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** The decrypted provider key for this attempt. Adapters put it in headers, nowhere else. */
  apiKey: string;
  stream: boolean;
  /** The client asked for `stream_options.include_usage` (emit the final usage chunk). */
  includeUsage: boolean;
  /** Output-token cap to send when the client gave none (null: leave the request as it is). */
  defaultMaxTokens: number | null;
  /** Gateway request id, usable as the completion id for providers that return none. */
  requestId: string;
  /** Unix seconds, for the `created` field of translated responses. */
  created: number;
}

export interface UpstreamRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface BufferedResult {
  body: ChatCompletion;
  /** Null when the provider reported no usage; the core then meters an estimate. */
  usage: Usage | null;
}

/** One server-sent event from upstream, as parsed by the SSE parser. */
export interface SseEvent {
  event?: string | undefined;
  data: string;
}

/**
 * Turns upstream SSE events into OpenAI SSE frames. Each returned string is a complete frame
 * (`data: {...}\n\n` or `data: [DONE]\n\n`). One instance per request.
 */
export interface StreamTranslator {
  push(event: SseEvent): string[];
  /** Upstream ended cleanly: flush whatever is pending, ending with `data: [DONE]\n\n`. */
  end(): string[];
  /** Usage seen so far (also after a failure mid-stream); null when upstream reported none. */
  usage(): Usage | null;
  /**
   * The terminal frame when the stream fails (`upstream_error`) or the provider goes silent
   * (`upstream_timeout`), in the client's wire format; default: the OpenAI error frames.
   */
  errorFrame?(code: StreamFailure): string;
}

/** How a stream failed, as the proxy core reports it to `StreamTranslator.errorFrame`. */
export type StreamFailure = "upstream_error" | "upstream_timeout";

/** What kind of failure an upstream error response is; the proxy core decides what to do. */
export type UpstreamFailureKind =
  | "rate_limited" // retryable 429: cool the key's scope down, rotate
  | "quota_exhausted" // billing/credit 429 or 402: not retryable on this key
  | "auth" // the provider key is bad (401/403, Gemini 400 API_KEY_INVALID): disable it
  | "bad_request" // the request itself is invalid
  | "not_found" // unknown model
  | "overloaded" // 503/529: the provider, not the key
  | "timeout" // 408/504
  | "server"; // anything else 5xx

export interface UpstreamFailure {
  kind: UpstreamFailureKind;
  /** Milliseconds until a retry may succeed, from headers or body; null when not given. */
  retryAfterMs: number | null;
  /** The upstream's short error type/code (e.g. `invalid_request_error`), safe to show; never the message. */
  upstreamType: string | null;
}

export interface ProviderAdapter {
  kind: AdapterKind;
  buildRequest(request: ChatCompletionRequest, ctx: AdapterContext): UpstreamRequest;
  /** Throws `GatewayError("upstream_error")` when the body is not the provider's response shape. */
  parseResponse(json: unknown, ctx: AdapterContext): BufferedResult;
  createStreamTranslator(ctx: AdapterContext): StreamTranslator;
  /** `body` is the upstream error body (may be empty or not JSON); it is read, never echoed. */
  classifyError(status: number, headers: Headers, body: string): UpstreamFailure;
}

export const ZERO_USAGE: Usage = {
  promptTokens: 0,
  completionTokens: 0,
  cachedPromptTokens: 0,
  cacheWriteTokens: 0,
  reasoningTokens: 0,
};
