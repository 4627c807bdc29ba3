import type { Usage } from "../providers/types";
import type { ResponsesRequest } from "./schema";

/**
 * The `Response` object KeyForge builds for a translated (non-OpenAI) model (reference agent-apis
 * §1.6): the spec's required fields, the request's settings echoed back, and `store: false` —
 * nothing is stored, which is what the client must know before it tries to chain on it.
 */

export type Json = Record<string, unknown>;

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export type OutputTextPart = { type: "output_text"; text: string; annotations: unknown[]; logprobs: unknown[] };
export type RefusalPart = { type: "refusal"; refusal: string };
export type MessageItem = {
  id: string;
  type: "message";
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: Array<OutputTextPart | RefusalPart>;
};
export type FunctionCallItem = {
  id: string;
  type: "function_call";
  status: "in_progress" | "completed" | "incomplete";
  arguments: string;
  call_id: string;
  name: string;
};
export type ReasoningItem = { id: string; type: "reasoning"; summary: Array<{ type: "summary_text"; text: string }> };
export type OutputItem = MessageItem | FunctionCallItem | ReasoningItem;

export type Status = "in_progress" | "completed" | "incomplete" | "failed";
export type IncompleteReason = "max_output_tokens" | "content_filter";

/** `resp_…`, `msg_…`, `fc_…`, `rs_…`: OpenAI-like ids, random so they never collide with stored ones. */
export function newId(prefix: "resp" | "msg" | "fc" | "rs"): string {
  return `${prefix}_${crypto.randomUUID().replace(/-/g, "")}`;
}

/** Normalised usage (cached ⊂ input, reasoning ⊂ output, as in Chat Completions) in the Responses shape. */
export function responseUsage(usage: Usage): ResponseUsage {
  return {
    input_tokens: usage.promptTokens,
    input_tokens_details: { cached_tokens: usage.cachedPromptTokens, cache_write_tokens: usage.cacheWriteTokens },
    output_tokens: usage.completionTokens,
    output_tokens_details: { reasoning_tokens: usage.reasoningTokens },
    total_tokens: usage.promptTokens + usage.completionTokens,
  };
}

export interface ResponseFrame {
  id: string;
  createdAt: number;
  request: ResponsesRequest;
}

/** The whole Response object in a given state; `output` and `usage` as known at that point. */
export function responseObject(
  frame: ResponseFrame,
  state: {
    status: Status;
    output: OutputItem[];
    usage: ResponseUsage | null;
    incomplete?: IncompleteReason | null;
    error?: { code: string; message: string } | null;
  },
): Json {
  const r = frame.request;
  return {
    id: frame.id,
    object: "response",
    created_at: frame.createdAt,
    status: state.status,
    background: false,
    completed_at: state.status === "completed" ? Math.floor(Date.now() / 1000) : null,
    error: state.error ?? null,
    incomplete_details: state.incomplete ? { reason: state.incomplete } : null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    model: r.model,
    output: state.output,
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
    store: false,
    temperature: r.temperature ?? 1,
    text: { format: r.text?.format ?? { type: "text" }, ...(r.text?.verbosity != null ? { verbosity: r.text.verbosity } : {}) },
    tool_choice: r.tool_choice ?? "auto",
    tools: r.tools ?? [],
    top_p: r.top_p ?? 1,
    truncation: r.truncation ?? "disabled",
    usage: state.usage,
    user: r.user ?? null,
    metadata: r.metadata ?? {},
  };
}

/** Chat `finish_reason` → Responses status (reference §3.3). */
export function statusOf(finishReason: string | null | undefined): { status: "completed" | "incomplete"; incomplete: IncompleteReason | null } {
  if (finishReason === "length") return { status: "incomplete", incomplete: "max_output_tokens" };
  if (finishReason === "content_filter") return { status: "incomplete", incomplete: "content_filter" };
  return { status: "completed", incomplete: null };
}
