import * as z from "zod";
import { GatewayError } from "../errors";
import { mergeUsage, usageFromAnthropic } from "../providers/anthropic/usage";
import { ANTHROPIC_VERSION, messageSchema, usageSchema, type WireUsage } from "../providers/anthropic/wire";
import { UpstreamStreamError } from "../providers/openai-frames";
import type { AdapterContext, SseEvent, StreamFailure, StreamTranslator, UpstreamRequest, Usage } from "../providers/types";
import { safeUpstreamType } from "../providers/upstream-error";
import { anthropicEventFrame, STREAM_FAILURE_MESSAGES } from "./errors";

/**
 * Claude models on /v1/messages: the client's request goes to Anthropic as it came (reference
 * agent-apis §0.1, §4.1) — its bytes when the model name needs no change, its `anthropic-version` and
 * `anthropic-beta` headers — and the answer comes back as Anthropic sent it: the buffered JSON
 * byte for byte, the stream event by event (pings and event types added later included). Thinking
 * signatures, redacted thinking, cache_control and tool blocks therefore round-trip untouched. Only
 * the usage is read, for metering.
 */

export interface ClientRequest {
  /** The body as the client sent it (UTF-8 text) and as parsed. */
  text: string;
  json: Record<string, unknown>;
  /** `anthropic-version` / `anthropic-beta` from the client; forwarded as they are. */
  version: string | null;
  beta: string | null;
}

/** The upstream request for one pooled key: the client's body, renamed only if the model id differs upstream. */
export function nativeRequest(client: ClientRequest, path: "/v1/messages" | "/v1/messages/count_tokens", ctx: AdapterContext): UpstreamRequest {
  const headers: Record<string, string> = {
    "x-api-key": ctx.apiKey,
    "anthropic-version": client.version ?? ANTHROPIC_VERSION,
    "content-type": "application/json",
    accept: ctx.stream ? "text/event-stream" : "application/json",
  };
  if (client.beta) headers["anthropic-beta"] = client.beta;
  const body = client.json.model === ctx.model ? client.text : JSON.stringify({ ...client.json, model: ctx.model });
  return { url: `${ctx.baseUrl}${path}`, headers, body };
}

function malformed(what: string): GatewayError {
  return new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: `anthropic: ${what}` });
}

/** A buffered Message: only its usage is read (the client gets the upstream's bytes). */
export function nativeMessageUsage(json: unknown): Usage | null {
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) throw malformed("response does not match the Message shape");
  return parsed.data.usage ? usageFromAnthropic(parsed.data.usage) : null;
}

const countSchema = z.looseObject({ input_tokens: z.number().int().nonnegative() });

/** `{"input_tokens": n}`; counting is free at Anthropic, so nothing is metered. */
export function nativeCount(json: unknown): number {
  const parsed = countSchema.safeParse(json);
  if (!parsed.success) throw malformed("count_tokens response has no input_tokens");
  return parsed.data.input_tokens;
}

const eventUsage = z.looseObject({
  type: z.string(),
  message: z.looseObject({ usage: usageSchema.nullable().optional() }).optional(),
  usage: usageSchema.nullable().optional(),
  delta: z
    .looseObject({ type: z.string().optional(), text: z.string().optional(), thinking: z.string().optional(), partial_json: z.string().optional() })
    .optional(),
  error: z.looseObject({ type: z.unknown().optional() }).optional(),
});

const BYTES_PER_TOKEN = 3;

/** One SSE frame in Anthropic's framing (the `event:` line is mandatory: the SDK dispatches on it). */
export function sseFrame(event: string, data: string): string {
  return `event: ${event}\n${data
    .split("\n")
    .map((line) => `data: ${line}`)
    .join("\n")}\n\n`;
}

/**
 * The stream relayed event by event. An upstream `error` event is replaced by one of ours with the
 * same (safe) type and our own message, then the stream ends as failed; a stream that ends without
 * `message_stop` is a failure too.
 */
export class NativeStream implements StreamTranslator {
  private wire: WireUsage | null = null;
  private sawDelta = false;
  private outputBytes = 0;
  private stopped = false;
  private upstreamErrorType: string | null = null;

  push(event: SseEvent): string[] {
    const parsed = eventUsage.safeParse(JSON.parse(event.data));
    if (!parsed.success) throw new UpstreamStreamError("anthropic: event is not an object with a type");
    const data = parsed.data;
    const name = event.event ?? data.type;
    if (name === "error" || data.type === "error") {
      this.upstreamErrorType = safeUpstreamType(data.error?.type);
      throw new UpstreamStreamError("anthropic: error event");
    }
    if (data.type === "message_start" && data.message?.usage) this.wire = mergeUsage(this.wire, data.message.usage);
    if (data.type === "message_delta" && data.usage) {
      this.wire = mergeUsage(this.wire, data.usage);
      this.sawDelta = true;
    }
    if (data.type === "content_block_delta" && data.delta) {
      const d = data.delta;
      this.outputBytes += (d.text ?? d.thinking ?? d.partial_json ?? "").length;
    }
    if (data.type === "message_stop") this.stopped = true;
    return [sseFrame(name, event.data)];
  }

  end(): string[] {
    if (!this.stopped) throw new UpstreamStreamError("anthropic: stream ended before message_stop");
    return [];
  }

  /**
   * The last cumulative usage seen. Cut before any message_delta, message_start's placeholder output
   * count would under-meter what was streamed: the streamed text then counts (bytes / 3).
   */
  usage(): Usage | null {
    if (!this.wire) return null;
    const usage = usageFromAnthropic(this.wire);
    if (!this.sawDelta) usage.completionTokens = Math.max(usage.completionTokens, Math.ceil(this.outputBytes / BYTES_PER_TOKEN));
    return usage;
  }

  errorFrame(code: StreamFailure): string {
    const type = code === "upstream_timeout" ? "timeout_error" : (this.upstreamErrorType ?? "api_error");
    return anthropicEventFrame(type, STREAM_FAILURE_MESSAGES[code]);
  }
}
