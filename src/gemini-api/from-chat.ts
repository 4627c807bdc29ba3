import type { ChatCompletion, ChatCompletionChunk, FinishReason } from "../openai/types";
import { UpstreamStreamError } from "../providers/openai-frames";
import type { AdapterContext, SseEvent, StreamFailure, StreamTranslator, Usage } from "../providers/types";
import { geminiStreamErrorFrame } from "./errors";

/**
 * A chat adapter's answer (OpenAI Chat shape) → Gemini's GenerateContentResponse and its stream.
 * Reasoning text is not carried over (a thought part without Gemini's signature means nothing to a
 * Gemini client); tool calls become whole `functionCall` parts, as Gemini streams them.
 */

type Json = Record<string, unknown>;

const FINISH: Record<string, string> = { stop: "STOP", length: "MAX_TOKENS", tool_calls: "STOP", function_call: "STOP", content_filter: "SAFETY" };
const finishOf = (reason: FinishReason | string | null | undefined) => FINISH[reason ?? "stop"] ?? "STOP";

/** Gemini counts thoughts outside `candidatesTokenCount`; Usage counts them inside completionTokens. */
export function usageMetadata(usage: Usage | null): Json | undefined {
  if (!usage) return undefined;
  const candidates = Math.max(0, usage.completionTokens - usage.reasoningTokens);
  return {
    promptTokenCount: usage.promptTokens,
    candidatesTokenCount: candidates,
    ...(usage.reasoningTokens > 0 ? { thoughtsTokenCount: usage.reasoningTokens } : {}),
    ...(usage.cachedPromptTokens > 0 ? { cachedContentTokenCount: usage.cachedPromptTokens } : {}),
    totalTokenCount: usage.promptTokens + usage.completionTokens,
  };
}

function args(text: string): Json {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

const responseId = (ctx: AdapterContext) => ctx.requestId.replace(/^req_/, "");

export function chatToGemini(completion: ChatCompletion, usage: Usage | null, model: string, ctx: AdapterContext): Json {
  const candidates = completion.choices.map((choice) => {
    const parts: Json[] = [];
    const text = choice.message.content ?? choice.message.refusal;
    if (text) parts.push({ text });
    for (const call of choice.message.tool_calls ?? [])
      parts.push({ functionCall: { id: call.id, name: call.function.name, args: args(call.function.arguments) } });
    return { content: { role: "model", parts }, finishReason: finishOf(choice.finish_reason), index: choice.index };
  });
  const meta = usageMetadata(usage);
  return { candidates, ...(meta ? { usageMetadata: meta } : {}), modelVersion: model, responseId: responseId(ctx) };
}

interface PendingCall {
  id: string;
  name: string;
  arguments: string;
}

/**
 * Chat chunks → one Gemini chunk per text delta; tool calls are collected (Chat streams their
 * arguments in pieces) and sent whole on the final chunk, with the finishReason and usageMetadata.
 */
export class ChatToGeminiStream implements StreamTranslator {
  private readonly calls = new Map<number, Map<number, PendingCall>>();
  private readonly finish = new Map<number, string>();

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
    const indexes = new Set([...this.finish.keys(), ...this.calls.keys()]);
    if (indexes.size === 0) indexes.add(0);
    const candidates = [...indexes]
      .sort((a, b) => a - b)
      .map((index) => {
        const parts = [...(this.calls.get(index)?.values() ?? [])].map((c) => ({ functionCall: { id: c.id, name: c.name, args: args(c.arguments) } }));
        return { content: { role: "model", parts: parts.length > 0 ? parts : [{ text: "" }] }, finishReason: finishOf(this.finish.get(index)), index };
      });
    const meta = usageMetadata(this.inner.usage());
    frames.push(this.chunk({ candidates, ...(meta ? { usageMetadata: meta } : {}) }));
    return frames;
  }

  usage(): Usage | null {
    return this.inner.usage();
  }

  errorFrame(code: StreamFailure): string {
    return geminiStreamErrorFrame(code);
  }

  private chunk(body: Json): string {
    return `data: ${JSON.stringify({ ...body, modelVersion: this.model, responseId: responseId(this.ctx) })}\r\n\r\n`;
  }

  private convert(frames: string[]): string[] {
    const out: string[] = [];
    for (const frame of frames) {
      const data = frame.replace(/^data: /, "").trimEnd();
      if (data === "[DONE]" || data === "") continue;
      const chunk = JSON.parse(data) as Partial<ChatCompletionChunk> & { error?: unknown };
      if (chunk.error !== undefined) throw new UpstreamStreamError("chat stream error frame");
      for (const choice of chunk.choices ?? []) {
        const text = choice.delta.content ?? choice.delta.refusal;
        if (text) out.push(this.chunk({ candidates: [{ content: { role: "model", parts: [{ text }] }, index: choice.index }] }));
        for (const call of choice.delta.tool_calls ?? []) {
          const calls = this.calls.get(choice.index) ?? new Map<number, PendingCall>();
          this.calls.set(choice.index, calls);
          const pending = calls.get(call.index) ?? { id: call.id ?? `call_${call.index}`, name: "", arguments: "" };
          pending.name += call.function?.name ?? "";
          pending.arguments += call.function?.arguments ?? "";
          calls.set(call.index, pending);
        }
        if (choice.finish_reason) this.finish.set(choice.index, choice.finish_reason);
      }
    }
    return out;
  }
}
