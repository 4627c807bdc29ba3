import { GatewayError } from "../../errors";
import type { ChatCompletion } from "../../openai/types";
import type { AdapterContext, BufferedResult } from "../types";
import { candidateOutput, toolCallIdPrefix } from "./candidate";
import { finishReasonOf } from "./finish-reason";
import { completionUsage } from "../openai-frames";
import { usageFromGemini } from "./usage";
import { type Candidate, responseSchema } from "./wire";

/** A buffered `GenerateContentResponse` → an OpenAI `chat.completion` (reference §3.3). */

type Choice = ChatCompletion["choices"][number];

function malformed(detail: string): GatewayError {
  return new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: `gemini: ${detail}` });
}

/** A blocked prompt is HTTP 200 with no candidates: an empty, filtered answer. */
const BLOCKED_CHOICE: Choice = {
  index: 0,
  message: { role: "assistant", content: "", refusal: null },
  logprobs: null,
  finish_reason: "content_filter",
};

export function parseGenerateContent(json: unknown, ctx: AdapterContext): BufferedResult {
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) throw malformed("response does not match the GenerateContentResponse shape");
  const response = parsed.data;
  const candidates = response.candidates ?? [];
  if (candidates.length === 0 && !response.promptFeedback?.blockReason) throw malformed("no candidates and no blockReason");

  const prefix = toolCallIdPrefix(response.responseId, ctx.requestId);
  let calls = 0;
  const choice = (candidate: Candidate, position: number): Choice => {
    const out = candidateOutput(candidate);
    const toolCalls = out.calls.map((call) => ({
      id: `${prefix}${calls++}`,
      type: "function" as const,
      function: { name: call.name, arguments: call.arguments },
    }));
    return {
      index: candidate.index ?? position,
      message: {
        role: "assistant",
        content: out.text === "" && toolCalls.length > 0 ? null : out.text,
        refusal: null,
        ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        ...(out.reasoning !== "" ? { reasoning_content: out.reasoning } : {}),
      },
      logprobs: null,
      finish_reason: finishReasonOf(candidate.finishReason, toolCalls.length > 0),
    };
  };

  const usage = response.usageMetadata ? usageFromGemini(response.usageMetadata) : null;
  const body: ChatCompletion = {
    id: `chatcmpl-${response.responseId ?? ctx.requestId}`,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: candidates.length === 0 ? [structuredClone(BLOCKED_CHOICE)] : candidates.map(choice),
    ...(usage ? { usage: completionUsage(usage) } : {}),
  };
  return { body, usage };
}
