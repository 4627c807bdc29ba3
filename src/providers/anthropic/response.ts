import { GatewayError } from "../../errors";
import type { ChatCompletion, ToolCall } from "../../openai/types";
import type { AdapterContext, BufferedResult } from "../types";
import { finishReasonOf } from "./finish-reason";
import { JSON_TOOL_NAME } from "./json-mode";
import { completionUsage } from "../openai-frames";
import { usageFromAnthropic } from "./usage";
import { messageSchema, textBlockSchema, thinkingBlockSchema, toolUseBlockSchema } from "./wire";

/** A buffered Anthropic `Message` → an OpenAI `chat.completion` (reference §2.3). */

interface Collected {
  text: string[];
  thinking: string[];
  toolCalls: ToolCall[];
  /** JSON-mode answer (see json-mode.ts), if the model called the JSON tool. */
  json: string | null;
}

function malformed(detail: string): GatewayError {
  return new GatewayError("upstream_error", "The provider returned a malformed response.", { detail: `anthropic: ${detail}` });
}

function collect(blocks: Array<{ type: string }>): Collected {
  const out: Collected = { text: [], thinking: [], toolCalls: [], json: null };
  for (const block of blocks) {
    if (block.type === "text") {
      const parsed = textBlockSchema.safeParse(block);
      if (!parsed.success) throw malformed("text block without text");
      out.text.push(parsed.data.text);
    } else if (block.type === "thinking") {
      const parsed = thinkingBlockSchema.safeParse(block);
      if (!parsed.success) throw malformed("thinking block without thinking");
      out.thinking.push(parsed.data.thinking);
    } else if (block.type === "tool_use") {
      const parsed = toolUseBlockSchema.safeParse(block);
      if (!parsed.success) throw malformed("tool_use block without id, name or input");
      const { id, name, input } = parsed.data;
      if (name === JSON_TOOL_NAME) out.json = JSON.stringify(input);
      else out.toolCalls.push({ id, type: "function", function: { name, arguments: JSON.stringify(input) } });
    }
    // redacted_thinking, server tool blocks and future types carry nothing an OpenAI client can use.
  }
  return out;
}

export function parseMessage(json: unknown, ctx: AdapterContext): BufferedResult {
  const parsed = messageSchema.safeParse(json);
  if (!parsed.success) throw malformed("response does not match the Message shape");
  const message = parsed.data;
  const collected = collect(message.content);
  const usage = message.usage ? usageFromAnthropic(message.usage) : null;
  const text = collected.json ?? collected.text.join("");
  const hasToolCalls = collected.toolCalls.length > 0;

  const body: ChatCompletion = {
    id: `chatcmpl-${message.id}`,
    object: "chat.completion",
    created: ctx.created,
    model: ctx.model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: text === "" && hasToolCalls ? null : text,
          refusal: null,
          ...(hasToolCalls ? { tool_calls: collected.toolCalls } : {}),
          ...(collected.thinking.length > 0 ? { reasoning_content: collected.thinking.join("") } : {}),
        },
        logprobs: null,
        finish_reason: finishReasonOf(message.stop_reason, collected.toolCalls.length),
      },
    ],
    ...(usage ? { usage: completionUsage(usage) } : {}),
  };
  return { body, usage };
}
