import type { ToolChoice, ToolDefinition } from "./wire";

/**
 * `response_format: json_object` has no native Anthropic equivalent, so it is emulated the way
 * LiteLLM does (reference §2.8): a tool named `json_tool_call` is added and forced, and on the way
 * back a call to it becomes the message `content` (JSON.stringify of its input) with finish_reason
 * `stop`, buffered and streamed alike. `json_schema` uses native `output_config.format` instead.
 *
 * Responses are translated without the request at hand, so the name is reserved: a client tool
 * with this name is rejected in buildRequest rather than silently turned into content.
 */
export const JSON_TOOL_NAME = "json_tool_call";

export const JSON_TOOL: ToolDefinition = {
  name: JSON_TOOL_NAME,
  description: "Respond with a JSON object.",
  input_schema: { type: "object", additionalProperties: true, properties: {} },
};

export const JSON_TOOL_CHOICE: ToolChoice = { type: "tool", name: JSON_TOOL_NAME };

/** The JSON text of a JSON-mode call: compact, so buffered and streamed output are identical. */
export function jsonModeContent(rawInput: string): string {
  try {
    return JSON.stringify(JSON.parse(rawInput === "" ? "{}" : rawInput));
  } catch {
    // Only reachable on a cut or corrupted upstream; the raw text is the model's own output.
    return rawInput;
  }
}
