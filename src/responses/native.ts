import * as z from "zod";
import { UpstreamStreamError } from "../providers/openai-frames";
import type { AdapterContext, SseEvent, StreamTranslator, UpstreamRequest, Usage } from "../providers/types";
import { safeUpstreamType } from "../providers/upstream-error";
import { FAILURE_MESSAGES, responsesFrame, type StreamFailure } from "./chat-stream";
import type { ResponsesRequest } from "./schema";

/**
 * OpenAI models on /v1/responses: the request goes to OpenAI's own Responses API with only the
 * model renamed (and an output cap when the key's policy needs one); the answer comes back as
 * OpenAI sent it. Usage is read from the response, or from the stream's terminal event
 * (reference agent-apis §6.1), cached and reasoning tokens included.
 */

const count = z.number().int().nonnegative();
const usageSchema = z.looseObject({
  input_tokens: count,
  output_tokens: count,
  input_tokens_details: z.looseObject({ cached_tokens: count.nullable().optional(), cache_write_tokens: count.nullable().optional() }).nullable().optional(),
  output_tokens_details: z.looseObject({ reasoning_tokens: count.nullable().optional() }).nullable().optional(),
});

/** Responses usage → normalised usage (cached ⊂ input and reasoning ⊂ output, as in Chat). */
export function usageFromResponses(raw: unknown): Usage | null {
  const parsed = usageSchema.safeParse(raw);
  if (!parsed.success) return null;
  const u = parsed.data;
  return {
    promptTokens: u.input_tokens,
    completionTokens: u.output_tokens,
    cachedPromptTokens: u.input_tokens_details?.cached_tokens ?? 0,
    cacheWriteTokens: u.input_tokens_details?.cache_write_tokens ?? 0,
    reasoningTokens: u.output_tokens_details?.reasoning_tokens ?? 0,
  };
}

export function nativeResponsesRequest(request: ResponsesRequest, ctx: AdapterContext): UpstreamRequest {
  const body: Record<string, unknown> = { ...request, model: ctx.model };
  if (ctx.defaultMaxTokens !== null && request.max_output_tokens == null) body.max_output_tokens = ctx.defaultMaxTokens;
  return {
    url: `${ctx.baseUrl}/responses`,
    headers: {
      authorization: `Bearer ${ctx.apiKey}`,
      "content-type": "application/json",
      accept: ctx.stream ? "text/event-stream" : "application/json",
    },
    body: JSON.stringify(body),
  };
}

/**
 * The first field of a native request that reads state stored at OpenAI (in one organisation or
 * project: a key of another one cannot see it), or null. Used to pin the request to the pool's home
 * scope and to refuse it on capped keys: the stored context it pulls in is invisible to the estimate.
 */
export function storedStateParam(request: ResponsesRequest): string | null {
  if (request.previous_response_id) return "previous_response_id";
  if (request.conversation) return "conversation";
  if ((request as { prompt?: unknown }).prompt != null) return "prompt";
  if (Array.isArray(request.input)) {
    const i = request.input.findIndex((item) => item.type === "item_reference");
    if (i >= 0) return `input[${i}]`;
  }
  return null;
}

const TERMINAL = new Set(["response.completed", "response.incomplete", "response.failed"]);

/**
 * OpenAI's Responses stream, event by event as sent (obfuscation and all). It only watches: the
 * terminal event's usage, the last `response` snapshot and the sequence number, so that a failure
 * can still end the stream with a well-formed `response.failed`. OpenAI's own failure (a
 * `response.failed` or `error` event) is re-emitted with its short code but KeyForge's message:
 * upstream text is never echoed.
 */
export class NativeResponsesStream implements StreamTranslator {
  private lastSequence = -1;
  private response: Record<string, unknown> | null = null;
  private done = false;
  private measured: Usage | null = null;
  private upstreamCode: string | null = null;

  push(event: SseEvent): string[] {
    if (this.done || event.data === "[DONE]") return [];
    const payload = JSON.parse(event.data) as Record<string, unknown> | null;
    if (payload === null || typeof payload !== "object") throw new UpstreamStreamError("not a Responses event");
    const type = typeof payload.type === "string" ? payload.type : (event.event ?? "");
    if (typeof payload.sequence_number === "number") this.lastSequence = payload.sequence_number;
    const response = payload.response;
    if (response !== null && typeof response === "object") this.response = response as Record<string, unknown>;
    if (type === "error" || type === "response.failed") {
      const error = (type === "error" ? payload : (this.response?.error ?? {})) as { code?: unknown };
      this.upstreamCode = safeUpstreamType(error.code);
      if (type === "response.failed") this.measured = usageFromResponses(this.response?.usage);
      // Its sequence number is re-used by the response.failed that errorFrame() sends in its place.
      if (typeof payload.sequence_number === "number") this.lastSequence -= 1;
      throw new UpstreamStreamError(`upstream ${type}`);
    }
    if (TERMINAL.has(type)) {
      this.done = true;
      this.measured = usageFromResponses(this.response?.usage);
    }
    return [`event: ${type}\ndata: ${event.data}\n\n`];
  }

  end(): string[] {
    // A stream cut before its terminal event is a failure, not a short answer.
    if (!this.done) throw new UpstreamStreamError("upstream stream ended early");
    return [];
  }

  usage(): Usage | null {
    return this.measured;
  }

  errorFrame(reason: StreamFailure): string {
    if (this.done) return "";
    this.done = true;
    const error = { code: this.upstreamCode ?? "server_error", message: FAILURE_MESSAGES[reason] };
    const response = { ...(this.response ?? { object: "response" }), status: "failed", error };
    return responsesFrame("response.failed", this.lastSequence + 1, { response });
  }
}
