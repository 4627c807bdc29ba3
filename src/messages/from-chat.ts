import type { ChatCompletion, ChatCompletionChunk, FinishReason } from "../openai/types";
import { UpstreamStreamError } from "../providers/openai-frames";
import type { AdapterContext, SseEvent, StreamFailure, StreamTranslator, Usage } from "../providers/types";
import { anthropicEventFrame, STREAM_FAILURE_MESSAGES } from "./errors";

/**
 * A chat adapter's answer (OpenAI Chat shape) → Anthropic's Message and its event stream (reference
 * agent-apis §5.2). Reasoning text is not carried over: it has no signature, and an unsigned thinking
 * block sent back later to a Claude model would be refused.
 */

type Json = Record<string, unknown>;

const STOP_REASON: Record<string, string> = {
  stop: "end_turn",
  length: "max_tokens",
  tool_calls: "tool_use",
  function_call: "tool_use",
  content_filter: "refusal",
};
const stopReasonOf = (finish: FinishReason | string | null | undefined) => STOP_REASON[finish ?? "stop"] ?? "end_turn";

/** Anthropic's input_tokens excludes cache reads and writes; Usage's promptTokens includes them. */
export function anthropicUsage(usage: Usage | null): Json {
  if (!usage) return { input_tokens: 0, output_tokens: 0 };
  return {
    input_tokens: Math.max(0, usage.promptTokens - usage.cachedPromptTokens - usage.cacheWriteTokens),
    cache_creation_input_tokens: usage.cacheWriteTokens,
    cache_read_input_tokens: usage.cachedPromptTokens,
    output_tokens: usage.completionTokens,
  };
}

/** Tool arguments are a JSON string in Chat and an object in Messages; anything else becomes `{}`. */
function toolInput(args: string): Json {
  try {
    const parsed = JSON.parse(args) as unknown;
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

export const messageId = (ctx: AdapterContext) => `msg_${ctx.requestId.replace(/^req_/, "")}`;

export function chatToMessage(completion: ChatCompletion, usage: Usage | null, model: string, ctx: AdapterContext): Json {
  const choice = completion.choices[0];
  const content: Json[] = [];
  const text = choice?.message.content ?? choice?.message.refusal ?? null;
  if (text) content.push({ type: "text", text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({ type: "tool_use", id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
  }
  return {
    id: messageId(ctx),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReasonOf(choice?.finish_reason),
    stop_sequence: null,
    usage: anthropicUsage(usage),
  };
}

function event(type: string, data: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/**
 * Chat chunks → message_start, one content block at a time (text, then each tool call), one
 * message_delta with the stop reason and the usage, message_stop. Anthropic block indexes are our
 * own counter, never Chat's tool_calls[].index.
 */
export class ChatToMessagesStream implements StreamTranslator {
  private started = false;
  private index = -1;
  private open: { kind: "text" } | { kind: "tool"; chatIndex: number } | null = null;
  private finish: string | null = null;

  constructor(
    private readonly inner: StreamTranslator,
    private readonly model: string,
    private readonly ctx: AdapterContext,
  ) {}

  push(upstream: SseEvent): string[] {
    return this.convert(this.inner.push(upstream));
  }

  end(): string[] {
    const frames = this.convert(this.inner.end());
    frames.push(...this.start(), ...this.close());
    frames.push(event("message_delta", { delta: { stop_reason: stopReasonOf(this.finish), stop_sequence: null }, usage: anthropicUsage(this.inner.usage()) }));
    frames.push(event("message_stop", {}));
    return frames;
  }

  usage(): Usage | null {
    return this.inner.usage();
  }

  errorFrame(code: StreamFailure): string {
    return anthropicEventFrame(code === "upstream_timeout" ? "timeout_error" : "api_error", STREAM_FAILURE_MESSAGES[code]);
  }

  /** The usage is not known before the end (Chat reports it last): message_start says 0 (§5.2). */
  private start(): string[] {
    if (this.started) return [];
    this.started = true;
    const message = { id: messageId(this.ctx), type: "message", role: "assistant", content: [], model: this.model, stop_reason: null, stop_sequence: null };
    return [event("message_start", { message: { ...message, usage: { input_tokens: 0, output_tokens: 0 } } })];
  }

  private close(): string[] {
    if (!this.open) return [];
    this.open = null;
    return [event("content_block_stop", { index: this.index })];
  }

  private openBlock(block: Json, open: NonNullable<ChatToMessagesStream["open"]>): string[] {
    const frames = this.close();
    this.index += 1;
    this.open = open;
    frames.push(event("content_block_start", { index: this.index, content_block: block }));
    return frames;
  }

  private convert(frames: string[]): string[] {
    const out: string[] = [...this.start()];
    for (const frame of frames) {
      const data = frame.replace(/^data: /, "").trimEnd();
      if (data === "[DONE]") continue;
      const chunk = JSON.parse(data) as Partial<ChatCompletionChunk> & { error?: unknown };
      if (chunk.error !== undefined) throw new UpstreamStreamError("chat stream error frame");
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const text = choice.delta.content ?? choice.delta.refusal;
      if (text) {
        if (this.open?.kind !== "text") out.push(...this.openBlock({ type: "text", text: "" }, { kind: "text" }));
        out.push(event("content_block_delta", { index: this.index, delta: { type: "text_delta", text } }));
      }
      for (const call of choice.delta.tool_calls ?? []) {
        const current = this.open?.kind === "tool" ? this.open.chatIndex : null;
        if (current !== call.index) {
          const block = { type: "tool_use", id: call.id ?? `toolu_${this.ctx.requestId}_${call.index}`, name: call.function?.name ?? "", input: {} };
          out.push(...this.openBlock(block, { kind: "tool", chatIndex: call.index }));
        }
        const args = call.function?.arguments;
        if (args) out.push(event("content_block_delta", { index: this.index, delta: { type: "input_json_delta", partial_json: args } }));
      }
      if (choice.finish_reason) {
        this.finish = choice.finish_reason;
        out.push(...this.close());
      }
    }
    return out;
  }
}
