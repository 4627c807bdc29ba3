import { GatewayError } from "../errors";
import type { ChatCompletionRequest, ChatMessage } from "../openai/schema";
import type { ContentBlock, MessageParam, MessagesRequest } from "./schema";

/**
 * A Messages request for a model with no Messages endpoint (gpt-*, gemini-*, custom, mock/*) → a
 * Chat Completions request, which the provider's existing adapter then sends (reference agent-apis
 * §5.1). What Chat cannot carry is dropped where it only tunes the answer (cache_control, thinking and
 * its signed blocks, top_k, service tier…) and refused with a 400 where the answer would otherwise be
 * silently wrong (server tools, documents other than plain text, blocks of unknown types).
 */

type Part = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };

function unsupported(param: string, what: string): GatewayError {
  return new GatewayError("invalid_request", `${what} is supported only for Claude models on /v1/messages.`, { param });
}

const blocksOf = (content: string | ContentBlock[]): ContentBlock[] => (typeof content === "string" ? [{ type: "text", text: content }] : content);

function imagePart(block: ContentBlock, param: string): Part {
  const source = block.source as { type?: unknown; media_type?: unknown; data?: unknown; url?: unknown } | undefined;
  if (source?.type === "base64" && typeof source.media_type === "string" && typeof source.data === "string") {
    return { type: "image_url", image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === "url" && typeof source.url === "string") return { type: "image_url", image_url: { url: source.url } };
  throw unsupported(param, "An image from the Files API");
}

/** A plain-text document is text; PDFs and files need Claude. */
function documentText(block: ContentBlock, param: string): string {
  const source = block.source as { type?: unknown; data?: unknown } | undefined;
  if (source?.type === "text" && typeof source.data === "string") return typeof block.title === "string" ? `${block.title}\n\n${source.data}` : source.data;
  throw unsupported(param, "A PDF, file or URL document");
}

/** User-side blocks → Chat parts (text and images). */
function userParts(block: ContentBlock, param: string): Part[] {
  switch (block.type) {
    case "text":
      return [{ type: "text", text: String(block.text ?? "") }];
    case "image":
      return [imagePart(block, param)];
    case "document":
      return [{ type: "text", text: documentText(block, param) }];
    // Thinking blocks are Claude's own, signed for Claude: another model cannot use them (§5.4).
    case "thinking":
    case "redacted_thinking":
      return [];
    default:
      throw unsupported(param, `A '${block.type}' content block`);
  }
}

/** A tool result's content: its text for the `tool` message, its images for a user message after it. */
function toolResult(block: ContentBlock, param: string): { message: ChatMessage; images: Part[] } {
  const parts =
    typeof block.content === "string"
      ? [{ type: "text" as const, text: block.content }]
      : blocksOf((block.content ?? []) as ContentBlock[]).flatMap((b, k) => userParts(b, `${param}.content[${k}]`));
  const text = parts.flatMap((p) => (p.type === "text" ? [p.text] : [])).join("\n");
  // Chat has no is_error: the text says it, so the model still knows the call failed.
  const content = block.is_error === true ? `Error: ${text}` : text;
  return {
    message: { role: "tool", tool_call_id: String(block.tool_use_id ?? ""), content },
    images: parts.filter((p) => p.type === "image_url"),
  };
}

function assistantMessage(blocks: ContentBlock[], param: string): ChatMessage {
  const text: string[] = [];
  const toolCalls: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }> = [];
  blocks.forEach((block, k) => {
    if (block.type === "text") text.push(String(block.text ?? ""));
    else if (block.type === "tool_use") {
      toolCalls.push({
        id: String(block.id ?? ""),
        type: "function",
        function: { name: String(block.name ?? ""), arguments: JSON.stringify(block.input ?? {}) },
      });
    } else if (block.type !== "thinking" && block.type !== "redacted_thinking") {
      throw unsupported(`${param}.content[${k}]`, `A '${block.type}' content block`);
    }
  });
  return { role: "assistant", content: text.length > 0 ? text.join("") : null, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

function systemText(content: string | ContentBlock[], param: string): string {
  return blocksOf(content)
    .map((block, k) => {
      if (block.type !== "text") throw unsupported(`${param}[${k}]`, `A '${block.type}' system block`);
      return String(block.text ?? "");
    })
    .join("\n");
}

function turnMessages(turn: MessageParam, i: number): ChatMessage[] {
  const param = `messages[${i}]`;
  if (turn.role === "system") return [{ role: "system", content: systemText(turn.content, `${param}.content`) }];
  const blocks = blocksOf(turn.content);
  if (turn.role === "assistant") return [assistantMessage(blocks, param)];
  // Tool results become `tool` messages placed before the rest of the user's turn (§5.1).
  const tools: ChatMessage[] = [];
  const parts: Part[] = [];
  blocks.forEach((block, k) => {
    if (block.type === "tool_result") {
      const result = toolResult(block, `${param}.content[${k}]`);
      tools.push(result.message);
      parts.push(...result.images);
    } else parts.push(...userParts(block, `${param}.content[${k}]`));
  });
  if (parts.length === 0) return tools;
  const content = parts.every((p) => p.type === "text") ? parts.map((p) => (p as { text: string }).text).join("") : parts;
  return [...tools, { role: "user", content } as ChatMessage];
}

const TOOL_CHOICE: Record<string, ChatCompletionRequest["tool_choice"]> = { auto: "auto", any: "required", none: "none" };

/** Sent as `max_completion_tokens` to OpenAI (its reasoning models refuse `max_tokens`), `max_tokens` to the rest. */
export function messagesToChat(request: MessagesRequest, provider: string): ChatCompletionRequest {
  const loose = request as Record<string, unknown>;
  const messages: ChatMessage[] = [];
  if (request.system != null) {
    const text = systemText(request.system, "system");
    if (text !== "") messages.push({ role: "system", content: text });
  }
  request.messages.forEach((turn, i) => messages.push(...turnMessages(turn, i)));
  if (messages.length === 0) throw new GatewayError("invalid_request", "The request has no message content.", { param: "messages" });

  const chat: ChatCompletionRequest = { model: request.model, messages };
  if (provider === "openai") chat.max_completion_tokens = request.max_tokens;
  else chat.max_tokens = request.max_tokens;
  if (request.stream === true) chat.stream = true;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  const stops = request.stop_sequences ?? [];
  if (stops.length > 4) throw new GatewayError("invalid_request", "At most 4 stop sequences are supported for this model.", { param: "stop_sequences" });
  if (stops.length > 0) chat.stop = stops;
  if (typeof request.metadata?.user_id === "string") chat.user = request.metadata.user_id;

  if (request.tools && request.tools.length > 0) {
    chat.tools = request.tools.map((tool, k) => {
      if (tool.type != null && tool.type !== "custom") throw unsupported(`tools[${k}]`, `The '${tool.type}' tool`);
      const description = typeof tool.description === "string" ? { description: tool.description } : {};
      return { type: "function" as const, function: { name: tool.name, ...description, parameters: tool.input_schema ?? { type: "object", properties: {} } } };
    });
  }
  const choice = request.tool_choice;
  if (choice) {
    chat.tool_choice = choice.type === "tool" ? { type: "function", function: { name: choice.name ?? "" } } : TOOL_CHOICE[choice.type];
    if (choice.disable_parallel_tool_use === true && chat.tools) chat.parallel_tool_calls = false;
  }
  const format = (loose.output_config as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  if (format?.type === "json_schema" && format.schema && typeof format.schema === "object") {
    chat.response_format = { type: "json_schema", json_schema: { name: "output", schema: format.schema as Record<string, unknown> } };
  }
  return chat;
}
