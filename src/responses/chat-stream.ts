import type { ChatCompletionChunk, ToolCallDelta } from "../openai/types";
import { type SseEvent, type StreamTranslator, type Usage, ZERO_USAGE } from "../providers/types";
import {
  type FunctionCallItem,
  type IncompleteReason,
  type Json,
  type MessageItem,
  newId,
  type OutputItem,
  type OutputTextPart,
  type ReasoningItem,
  type RefusalPart,
  type ResponseFrame,
  responseObject,
  responseUsage,
  statusOf,
} from "./response-object";

/**
 * Chat chunks (as a chat adapter's StreamTranslator emits them) → the Responses event stream
 * (reference agent-apis §1.8, §3.4): response.created → response.in_progress → per output item
 * output_item.added … output_item.done → exactly one of response.completed / response.incomplete /
 * response.failed. Every event carries `sequence_number` from 0. Items are emitted one after
 * another, never interleaved: a new item closes the open one.
 */

type OpenReasoning = { kind: "reasoning"; index: number; item: ReasoningItem; text: string };
type OpenMessage = { kind: "message"; index: number; item: MessageItem; part: OutputTextPart | RefusalPart | null };
type OpenCall = { kind: "call"; index: number; item: FunctionCallItem };
type Open = OpenReasoning | OpenMessage | OpenCall;

/** How a stream failed, as the proxy core reports it (StreamTranslator.errorFrame). */
export type StreamFailure = "upstream_error" | "upstream_timeout";

/** KeyForge's own words: the upstream's failure text is never echoed. */
export const FAILURE_MESSAGES: Record<StreamFailure, string> = {
  upstream_error: "The provider failed mid-stream.",
  upstream_timeout: "The provider sent nothing for too long.",
};

/** One SSE frame of a Responses stream: named event, the type repeated in the payload. */
export function responsesFrame(type: string, sequence: number, fields: Json): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: sequence, ...fields })}\n\n`;
}

export class ChatToResponsesStream implements StreamTranslator {
  private sequence = 0;
  private started = false;
  private ended = false;
  private readonly output: OutputItem[] = [];
  private open: Open | null = null;
  /** Chat tool_calls[].index → its function_call item (late fragments still find their call). */
  private readonly calls = new Map<number, FunctionCallItem>();
  private finishReason: string | null = null;

  constructor(
    private readonly inner: StreamTranslator,
    private readonly frame: ResponseFrame,
  ) {}

  push(event: SseEvent): string[] {
    return this.translate(this.inner.push(event));
  }

  end(): string[] {
    const frames = this.translate(this.inner.end());
    frames.push(...this.closeOpen());
    const { status, incomplete } = statusOf(this.finishReason);
    this.ended = true;
    const type = status === "completed" ? "response.completed" : "response.incomplete";
    frames.push(this.emit(type, { response: this.snapshot(status, incomplete) }));
    return frames;
  }

  usage(): Usage | null {
    return this.inner.usage();
  }

  /** The terminal event after a failure: response.failed with the output so far (reference §1.9). */
  errorFrame(reason: StreamFailure): string {
    if (this.ended) return "";
    this.ended = true;
    const frames = this.start();
    const error = { code: "server_error", message: FAILURE_MESSAGES[reason] };
    frames.push(this.emit("response.failed", { response: { ...this.snapshot("failed", null), error } }));
    return frames.join("");
  }

  private emit(type: string, fields: Json): string {
    return responsesFrame(type, this.sequence++, fields);
  }

  private snapshot(status: "in_progress" | "completed" | "incomplete" | "failed", incomplete: IncompleteReason | null): Json {
    const usage = status === "in_progress" ? null : responseUsage(this.usage() ?? ZERO_USAGE);
    return responseObject(this.frame, { status, output: this.output, usage, incomplete });
  }

  private start(): string[] {
    if (this.started) return [];
    this.started = true;
    const response = this.snapshot("in_progress", null);
    return [this.emit("response.created", { response }), this.emit("response.in_progress", { response })];
  }

  /** The inner translator's chat frames (`data: {chunk}`) → Responses events. */
  private translate(chatFrames: string[]): string[] {
    const out = this.start();
    for (const frame of chatFrames) {
      const data = frame.startsWith("data: ") ? frame.slice(6).trim() : "";
      if (data === "" || data === "[DONE]") continue;
      const chunk = JSON.parse(data) as ChatCompletionChunk;
      const choice = chunk.choices?.[0];
      if (!choice) continue;
      const delta = choice.delta ?? {};
      if (delta.reasoning_content) out.push(...this.reasoningDelta(delta.reasoning_content));
      if (delta.content) out.push(...this.partDelta("output_text", delta.content));
      if (delta.refusal) out.push(...this.partDelta("refusal", delta.refusal));
      for (const call of delta.tool_calls ?? []) out.push(...this.toolDelta(call));
      if (choice.finish_reason) {
        this.finishReason = choice.finish_reason;
        out.push(...this.closeOpen());
      }
    }
    return out;
  }

  private reasoningDelta(text: string): string[] {
    const out: string[] = [];
    let open = this.open;
    if (open?.kind !== "reasoning") {
      out.push(...this.closeOpen());
      const item: ReasoningItem = { id: newId("rs"), type: "reasoning", summary: [] };
      open = { kind: "reasoning", index: this.output.length, item, text: "" };
      this.open = open;
      this.output.push(item);
      out.push(this.emit("response.output_item.added", { output_index: open.index, item: { ...item, summary: [] } }));
      out.push(
        this.emit("response.reasoning_summary_part.added", {
          item_id: item.id,
          output_index: open.index,
          summary_index: 0,
          part: { type: "summary_text", text: "" },
        }),
      );
    }
    open.text += text;
    out.push(this.emit("response.reasoning_summary_text.delta", { item_id: open.item.id, output_index: open.index, summary_index: 0, delta: text }));
    return out;
  }

  private openMessage(): string[] {
    const item: MessageItem = { id: newId("msg"), type: "message", status: "in_progress", role: "assistant", content: [] };
    this.open = { kind: "message", index: this.output.length, item, part: null };
    this.output.push(item);
    return [this.emit("response.output_item.added", { output_index: this.open.index, item: { ...item, content: [] } })];
  }

  private partDelta(type: "output_text" | "refusal", text: string): string[] {
    const out: string[] = [];
    if (this.open?.kind !== "message") out.push(...this.closeOpen(), ...this.openMessage());
    const open = this.open as OpenMessage;
    if (open.part?.type !== type) {
      out.push(...this.closePart(open));
      const part: OutputTextPart | RefusalPart = type === "output_text" ? { type, text: "", annotations: [], logprobs: [] } : { type, refusal: "" };
      open.part = part;
      open.item.content.push(part);
      out.push(this.emit("response.content_part.added", { ...this.partRef(open), part: { ...part } }));
    }
    const ref = this.partRef(open);
    if (open.part.type === "output_text") {
      open.part.text += text;
      out.push(this.emit("response.output_text.delta", { ...ref, delta: text, logprobs: [] }));
    } else {
      open.part.refusal += text;
      out.push(this.emit("response.refusal.delta", { ...ref, delta: text }));
    }
    return out;
  }

  private toolDelta(delta: ToolCallDelta): string[] {
    const out: string[] = [];
    // Some OpenAI-compatible servers omit the (required) index: a fragment with an id starts a new
    // call, one without continues the last.
    const index = typeof delta.index === "number" ? delta.index : delta.id ? this.calls.size : Math.max(0, this.calls.size - 1);
    let item = this.calls.get(index);
    if (!item) {
      out.push(...this.closeOpen());
      item = {
        id: newId("fc"),
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: delta.id ?? newId("fc").replace(/^fc_/, "call_"),
        name: delta.function?.name ?? "",
      };
      this.calls.set(index, item);
      this.open = { kind: "call", index: this.output.length, item };
      this.output.push(item);
      out.push(this.emit("response.output_item.added", { output_index: this.open.index, item: { ...item } }));
    }
    const args = delta.function?.arguments ?? "";
    if (args === "") return out;
    item.arguments += args;
    // A fragment for a call already closed (a provider that interleaves calls) is kept in the final
    // output; announcing it now would interleave items, which clients do not expect.
    if (this.open?.kind === "call" && this.open.item === item) {
      out.push(this.emit("response.function_call_arguments.delta", { item_id: item.id, output_index: this.open.index, delta: args }));
    }
    return out;
  }

  private partRef(open: OpenMessage): Json {
    return { item_id: open.item.id, output_index: open.index, content_index: Math.max(0, open.item.content.length - 1) };
  }

  private closePart(open: OpenMessage): string[] {
    const part = open.part;
    if (!part) return [];
    open.part = null;
    const ref = { item_id: open.item.id, output_index: open.index, content_index: open.item.content.indexOf(part) };
    const done =
      part.type === "output_text"
        ? this.emit("response.output_text.done", { ...ref, text: part.text, logprobs: [] })
        : this.emit("response.refusal.done", { ...ref, refusal: part.refusal });
    return [done, this.emit("response.content_part.done", { ...ref, part: { ...part } })];
  }

  /** Closes the open item (if any) with its done events; its final state stays in `output`. */
  private closeOpen(): string[] {
    const open = this.open;
    if (!open) return [];
    this.open = null;
    const out: string[] = [];
    if (open.kind === "reasoning") {
      const ref = { item_id: open.item.id, output_index: open.index, summary_index: 0 };
      const part = { type: "summary_text" as const, text: open.text };
      open.item.summary = [part];
      out.push(this.emit("response.reasoning_summary_text.done", { ...ref, text: open.text }));
      out.push(this.emit("response.reasoning_summary_part.done", { ...ref, part }));
    } else if (open.kind === "message") {
      out.push(...this.closePart(open));
      open.item.status = this.finishReason === "length" ? "incomplete" : "completed";
    } else {
      const { item } = open;
      item.status = "completed";
      out.push(this.emit("response.function_call_arguments.done", { item_id: item.id, output_index: open.index, arguments: item.arguments, name: item.name }));
    }
    out.push(this.emit("response.output_item.done", { output_index: open.index, item: structuredClone(open.item) }));
    return out;
  }
}
