import type { ChatCompletion } from "../openai/types";
import { type Usage, ZERO_USAGE } from "../providers/types";
import { type Json, newId, type OutputItem, type ResponseFrame, responseObject, responseUsage, statusOf } from "./response-object";

/**
 * A buffered chat completion (from any chat adapter) → the Response object (reference agent-apis
 * §3.3). Output order: [reasoning] [message] [function_call…], the order OpenAI and LiteLLM use.
 * `usage` is the adapter's normalised usage (from the provider's own counts, cache writes included).
 */
export function chatToResponse(completion: ChatCompletion, usage: Usage | null, frame: ResponseFrame): Json {
  const choice = completion.choices[0];
  const message = choice?.message;
  const { status, incomplete } = statusOf(choice?.finish_reason);
  const output: OutputItem[] = [];
  if (message?.reasoning_content) {
    output.push({ id: newId("rs"), type: "reasoning", summary: [{ type: "summary_text", text: message.reasoning_content }] });
  }
  const toolCalls = message?.tool_calls ?? [];
  const text = message?.content ?? "";
  const refusal = message?.refusal ?? null;
  // A message item whenever there is something to say, or nothing else at all (an empty answer).
  if (text !== "" || refusal !== null || toolCalls.length === 0) {
    output.push({
      id: newId("msg"),
      type: "message",
      status: status === "completed" ? "completed" : "incomplete",
      role: "assistant",
      content: [
        ...(text !== "" || refusal === null ? [{ type: "output_text" as const, text, annotations: [], logprobs: [] }] : []),
        ...(refusal !== null ? [{ type: "refusal" as const, refusal }] : []),
      ],
    });
  }
  for (const call of toolCalls) {
    output.push({
      id: newId("fc"),
      type: "function_call",
      status: "completed",
      arguments: call.function.arguments,
      call_id: call.id,
      name: call.function.name,
    });
  }
  return responseObject(frame, { status, output, usage: responseUsage(usage ?? ZERO_USAGE), incomplete });
}
