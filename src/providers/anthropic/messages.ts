import { GatewayError } from "../../errors";
import type { ChatMessage } from "../../openai/schema";
import { cacheControlSchema, type ImageBlock, type RequestBlock, type TextBlock, type ToolUseBlock, type Turn } from "./wire";

/**
 * OpenAI messages → Anthropic `system` + `messages` (reference §2.2, §2.8). Anthropic has no
 * system role, wants tool results inside a user turn and tool calls as blocks of the assistant turn.
 */

export interface TranslatedMessages {
  system: TextBlock[];
  messages: Turn[];
}

type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type ToolMessage = Extract<ChatMessage, { role: "tool" }>;
type Part = { type: string; [key: string]: unknown };

export function translateMessages(messages: ChatMessage[]): TranslatedMessages {
  const system: TextBlock[] = [];
  const turns: Turn[] = [];
  messages.forEach((message, i) => {
    switch (message.role) {
      case "system":
      case "developer":
        // Claude takes one system prompt, so instructions from anywhere are hoisted, in order.
        system.push(...textBlocks(message.content).filter((block) => block.text !== ""));
        break;
      case "user":
        appendTurn(turns, "user", userBlocks(message.content, `messages[${i}].content`));
        break;
      case "assistant":
        appendTurn(turns, "assistant", assistantBlocks(message));
        break;
      case "tool":
        appendTurn(turns, "user", [toolResult(message)]);
        break;
    }
  });
  return { system, messages: turns };
}

/**
 * Consecutive turns of one role become one turn: several tool messages give one user turn with
 * several `tool_result` blocks, which is what the API would build by merging anyway.
 */
function appendTurn(turns: Turn[], role: Turn["role"], blocks: RequestBlock[]): void {
  // An assistant message with neither text nor tool calls has nothing to say; Anthropic rejects empty turns.
  if (blocks.length === 0) return;
  const last = turns[turns.length - 1];
  if (last?.role === role) last.content.push(...blocks);
  else turns.push({ role, content: blocks });
}

function textBlock(part: Part & { text: string }): TextBlock {
  // Anthropic-aware clients mark cache breakpoints on parts; keep valid ones so prompt caching works.
  const cache = cacheControlSchema.safeParse(part.cache_control);
  return cache.success ? { type: "text", text: part.text, cache_control: cache.data } : { type: "text", text: part.text };
}

function textBlocks(content: string | Array<Part & { text: string }>): TextBlock[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content.map(textBlock);
}

function isTextPart(part: Part): part is Part & { text: string } {
  return part.type === "text" && typeof part.text === "string";
}

function imageUrlOf(part: Part): string | null {
  const image = part.image_url as { url?: unknown } | undefined;
  return part.type === "image_url" && typeof image?.url === "string" ? image.url : null;
}

function userBlocks(content: string | Part[], param: string): RequestBlock[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return content.map((part, j) => {
    if (isTextPart(part)) return textBlock(part);
    const url = imageUrlOf(part);
    if (url !== null) return imageBlock(url, `${param}[${j}].image_url.url`);
    throw new GatewayError("invalid_request", "This content part type is not supported by the provider.", {
      param: `${param}[${j}].type`,
    });
  });
}

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.+)$/is;

function imageBlock(url: string, param: string): ImageBlock {
  const data = DATA_URL.exec(url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1]!.toLowerCase(), data: data[2]! } };
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  throw new GatewayError("invalid_request", "Image URLs must be http(s) URLs or base64 data: URLs.", { param });
}

function assistantBlocks(message: AssistantMessage): RequestBlock[] {
  const blocks: RequestBlock[] = [];
  const content = message.content ?? [];
  const texts = typeof content === "string" ? [{ type: "text" as const, text: content }] : content.filter(isTextPart);
  // Anthropic rejects empty text blocks, and OpenAI clients often send content "" beside tool_calls.
  for (const part of texts) if (part.text !== "") blocks.push(textBlock(part));
  for (const call of message.tool_calls ?? []) blocks.push(toolUse(call.id, call.function.name, call.function.arguments));
  return blocks;
}

function toolUse(id: string, name: string, args: string): ToolUseBlock {
  return { type: "tool_use", id, name, input: argumentsObject(args) };
}

/**
 * `input` must be an object. Arguments that are not a JSON object (the model's own malformed output
 * from an earlier turn) become `{}` rather than failing the whole conversation.
 */
function argumentsObject(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  return {};
}

function toolResult(message: ToolMessage): RequestBlock {
  const content = typeof message.content === "string" ? message.content : message.content.map(textBlock);
  return { type: "tool_result", tool_use_id: message.tool_call_id, content };
}
