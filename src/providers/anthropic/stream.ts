import type { AdapterContext, SseEvent, StreamTranslator, Usage } from "../types";
import { finishReasonOf } from "./finish-reason";
import { JSON_TOOL_NAME, jsonModeContent } from "./json-mode";
import { type ChunkMeta, deltaFrame, DONE_FRAME, UpstreamStreamError, usageFrame } from "../openai-frames";
import { KNOWN_EVENTS, type StreamEvent, streamEventSchema } from "./stream-events";
import { mergeUsage, usageFromAnthropic } from "./usage";
import type { WireUsage } from "./wire";

/**
 * Anthropic named SSE events → OpenAI chunks (reference §2.4, §2.8). Stateful: content blocks are
 * tracked by Anthropic block index, while OpenAI tool-call indexes come from a per-stream counter
 * (a text or thinking block before a tool call must not shift the client's tool_calls[] index).
 */

type OpenBlock = { kind: "tool"; toolIndex: number } | { kind: "json"; input: string } | { kind: "content" };
type Frames = string[];

function parseEvent(data: string): StreamEvent | "unknown" | null {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  const type = (json as { type?: unknown } | null)?.type;
  // Event types added to the API later are skipped, as the streaming docs ask clients to do.
  if (typeof type === "string" && !KNOWN_EVENTS.has(type)) return "unknown";
  const parsed = streamEventSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export class AnthropicStreamTranslator implements StreamTranslator {
  private readonly meta: ChunkMeta;
  private state: "open" | "done" | "failed" = "open";
  private rawUsage: WireUsage | null = null;
  private stopReason: string | null = null;
  private readonly blocks = new Map<number, OpenBlock>();
  private toolCalls = 0;

  constructor(ctx: AdapterContext) {
    this.meta = { id: `chatcmpl-${ctx.requestId}`, created: ctx.created, model: ctx.model, includeUsage: ctx.includeUsage };
  }

  push(event: SseEvent): Frames {
    if (this.state !== "open") return [];
    const parsed = parseEvent(event.data);
    if (parsed === "unknown") return [];
    if (parsed === null) return this.fail();
    return this.handle(parsed);
  }

  /** A clean end without `message_stop` is a truncated answer, reported as a failure, not a stop. */
  end(): Frames {
    return this.state === "open" ? this.fail() : [];
  }

  usage(): Usage | null {
    return this.rawUsage ? usageFromAnthropic(this.rawUsage) : null;
  }

  private handle(event: StreamEvent): Frames {
    switch (event.type) {
      case "message_start":
        this.meta.id = `chatcmpl-${event.message.id}`;
        if (event.message.usage) this.rawUsage = mergeUsage(this.rawUsage, event.message.usage);
        return [deltaFrame(this.meta, 0, { role: "assistant", content: "" })];
      case "content_block_start":
        return this.startBlock(event.index, event.content_block);
      case "content_block_delta":
        return this.blockDelta(event.index, event.delta);
      case "content_block_stop":
        return this.stopBlock(event.index);
      case "message_delta":
        this.stopReason = event.delta.stop_reason ?? this.stopReason;
        if (event.usage) this.rawUsage = mergeUsage(this.rawUsage, event.usage);
        return [];
      case "message_stop":
        return this.finish();
      case "ping":
        return [];
      case "error":
        return this.fail();
    }
  }

  private startBlock(index: number, block: Extract<StreamEvent, { type: "content_block_start" }>["content_block"]): Frames {
    if (block.type === "tool_use") {
      if (!block.id || !block.name) return this.fail();
      if (block.name === JSON_TOOL_NAME) {
        this.blocks.set(index, { kind: "json", input: "" });
        return [];
      }
      const toolIndex = this.toolCalls++;
      this.blocks.set(index, { kind: "tool", toolIndex });
      const call = { index: toolIndex, id: block.id, type: "function" as const, function: { name: block.name, arguments: "" } };
      return [deltaFrame(this.meta, 0, { tool_calls: [call] })];
    }
    this.blocks.set(index, { kind: "content" });
    if (block.type === "text" && block.text) return [deltaFrame(this.meta, 0, { content: block.text })];
    if (block.type === "thinking" && block.thinking) return [deltaFrame(this.meta, 0, { reasoning_content: block.thinking })];
    return [];
  }

  private blockDelta(index: number, delta: Extract<StreamEvent, { type: "content_block_delta" }>["delta"]): Frames {
    const block = this.blocks.get(index);
    if (delta.type === "text_delta" && delta.text) return [deltaFrame(this.meta, 0, { content: delta.text })];
    if (delta.type === "thinking_delta" && delta.thinking) {
      return [deltaFrame(this.meta, 0, { reasoning_content: delta.thinking })];
    }
    if (delta.type !== "input_json_delta" || !delta.partial_json) return [];
    if (block?.kind === "json") {
      // Buffered until the block stops so the JSON-mode content is compact, exactly as when buffered.
      block.input += delta.partial_json;
      return [];
    }
    if (block?.kind !== "tool") return [];
    return [deltaFrame(this.meta, 0, { tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }] })];
  }

  private stopBlock(index: number): Frames {
    const block = this.blocks.get(index);
    this.blocks.delete(index);
    return block?.kind === "json" ? [deltaFrame(this.meta, 0, { content: jsonModeContent(block.input) })] : [];
  }

  private finish(): Frames {
    this.state = "done";
    const frames = [deltaFrame(this.meta, 0, {}, finishReasonOf(this.stopReason, this.toolCalls))];
    const usage = this.usage();
    if (this.meta.includeUsage && usage) frames.push(usageFrame(this.meta, usage));
    frames.push(DONE_FRAME);
    return frames;
  }

  /** The proxy turns this into the terminal error frame and meters the request as failed. */
  private fail(): never {
    this.state = "failed";
    throw new UpstreamStreamError("Anthropic stream failed or ended early");
  }
}
