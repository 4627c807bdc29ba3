import type { ChatCompletionChunk } from "../../openai/types";
import type { AdapterContext, SseEvent, StreamTranslator, Usage } from "../types";
import { candidateOutput, toolCallIdPrefix } from "./candidate";
import { finishReasonOf } from "./finish-reason";
import { type ChunkMeta, deltaFrame, DONE_FRAME, UpstreamStreamError, usageFrame } from "../openai-frames";
import { usageFromGemini } from "./usage";
import { type Candidate, type GenerateContentResponse, responseSchema, type UsageMetadata } from "./wire";

/**
 * `streamGenerateContent?alt=sse` → OpenAI chunks (reference §3.4). Every event is a complete
 * GenerateContentResponse holding only new parts; function calls arrive whole. There is no end
 * marker, so the finish chunk, usage chunk and [DONE] are written when upstream ends.
 */

type Delta = ChatCompletionChunk["choices"][number]["delta"];
type Frames = string[];

interface ChoiceState {
  roleSent: boolean;
  finishReason: string | undefined;
  /** OpenAI tool_calls[].index counts per choice. */
  toolCalls: number;
}

function parseChunk(data: string): GenerateContentResponse | null {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return null;
  }
  // An error object inside a 200 stream is a mid-stream failure, whatever else it carries.
  if (json === null || typeof json !== "object" || "error" in json) return null;
  const parsed = responseSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

export class GeminiStreamTranslator implements StreamTranslator {
  private readonly meta: ChunkMeta;
  private idPrefix: string | null = null;
  private state: "open" | "done" | "failed" = "open";
  private usageMetadata: UsageMetadata | null = null;
  private readonly choices = new Map<number, ChoiceState>();
  private calls = 0;
  private blocked = false;

  constructor(private readonly ctx: AdapterContext) {
    this.meta = { id: `chatcmpl-${ctx.requestId}`, created: ctx.created, model: ctx.model, includeUsage: ctx.includeUsage };
  }

  push(event: SseEvent): Frames {
    if (this.state !== "open") return [];
    const response = parseChunk(event.data);
    if (response === null) return this.fail();
    if (this.idPrefix === null) {
      this.meta.id = `chatcmpl-${response.responseId ?? this.ctx.requestId}`;
      this.idPrefix = toolCallIdPrefix(response.responseId, this.ctx.requestId);
    }
    // Counts are cumulative per chunk; the last one seen is the most complete.
    if (response.usageMetadata) this.usageMetadata = response.usageMetadata;
    const candidates = response.candidates ?? [];
    if (candidates.length === 0 && response.promptFeedback?.blockReason) this.blocked = true;
    return candidates.flatMap((candidate, position) => this.candidateFrames(candidate, candidate.index ?? position));
  }

  end(): Frames {
    if (this.state !== "open") return [];
    const finished = [...this.choices.values()].some((choice) => choice.finishReason !== undefined);
    // Gemini always ends with a finishReason (or a blocked prompt): without one the answer was cut.
    if (!this.blocked && !finished) return this.fail();
    this.state = "done";
    const frames: Frames = [];
    if (this.blocked && this.choices.size === 0) {
      frames.push(deltaFrame(this.meta, 0, { role: "assistant", content: "" }, "content_filter"));
    }
    for (const [index, choice] of [...this.choices.entries()].sort(([a], [b]) => a - b)) {
      const delta: Delta = choice.roleSent ? {} : { role: "assistant", content: "" };
      frames.push(deltaFrame(this.meta, index, delta, finishReasonOf(choice.finishReason, choice.toolCalls > 0)));
    }
    const usage = this.usage();
    if (this.meta.includeUsage && usage) frames.push(usageFrame(this.meta, usage));
    frames.push(DONE_FRAME);
    return frames;
  }

  usage(): Usage | null {
    return this.usageMetadata ? usageFromGemini(this.usageMetadata) : null;
  }

  private candidateFrames(candidate: Candidate, index: number): Frames {
    let choice = this.choices.get(index);
    if (!choice) {
      choice = { roleSent: false, finishReason: undefined, toolCalls: 0 };
      this.choices.set(index, choice);
    }
    if (candidate.finishReason) choice.finishReason = candidate.finishReason;
    const out = candidateOutput(candidate);
    const delta: Delta = {};
    if (out.text !== "") delta.content = out.text;
    if (out.reasoning !== "") delta.reasoning_content = out.reasoning;
    if (out.calls.length > 0) {
      delta.tool_calls = out.calls.map((call) => ({
        index: choice.toolCalls++,
        id: `${this.idPrefix}${this.calls++}`,
        type: "function" as const,
        function: { name: call.name, arguments: call.arguments },
      }));
    }
    // Empty pieces (the final chunk often carries `text: ""`) produce no frame.
    if (Object.keys(delta).length === 0) return [];
    const first = !choice.roleSent;
    choice.roleSent = true;
    return [deltaFrame(this.meta, index, first ? { role: "assistant", ...delta } : delta)];
  }

  /** The proxy turns this into the terminal error frame and meters the request as failed. */
  private fail(): never {
    this.state = "failed";
    throw new UpstreamStreamError("Gemini stream failed or ended early");
  }
}
