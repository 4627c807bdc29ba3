import { GatewayError } from "../../errors";
import type { ChatMessage } from "../../openai/schema";
import type { Content, Part } from "./wire";

/**
 * OpenAI messages → Gemini `contents` + `systemInstruction` (reference §3.2, §3.7). Gemini knows
 * only `user` and `model` turns, and answers a function call by name, not by id: tool messages find
 * their function name through the tool_call_id of an earlier assistant tool call.
 */

export interface TranslatedContents {
  system: Array<{ text: string }>;
  contents: Content[];
}

type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type ToolMessage = Extract<ChatMessage, { role: "tool" }>;
type OpenAiPart = { type: string; [key: string]: unknown };

export function translateContents(messages: ChatMessage[]): TranslatedContents {
  const system: Array<{ text: string }> = [];
  const contents: Content[] = [];
  const callNames = new Map<string, string>();
  let previousRole: ChatMessage["role"] | null = null;
  messages.forEach((message, i) => {
    switch (message.role) {
      case "system":
      case "developer":
        system.push(
          ...texts(message.content)
            .filter((t) => t !== "")
            .map((text) => ({ text })),
        );
        break;
      case "user":
        contents.push({ role: "user", parts: userParts(message.content, `messages[${i}].content`) });
        break;
      case "assistant": {
        const parts = modelParts(message, callNames);
        if (parts.length > 0) contents.push({ role: "model", parts });
        break;
      }
      case "tool": {
        const part = functionResponse(message, callNames, i);
        const last = contents[contents.length - 1];
        // Answers to parallel calls go back together, as one user turn.
        if (previousRole === "tool" && last) last.parts.push(part);
        else contents.push({ role: "user", parts: [part] });
        break;
      }
    }
    previousRole = message.role;
  });
  return { system, contents };
}

function texts(content: string | Array<{ text: string }>): string[] {
  return typeof content === "string" ? [content] : content.map((part) => part.text);
}

function userParts(content: string | OpenAiPart[], param: string): Part[] {
  if (typeof content === "string") return [{ text: content }];
  return content.map((part, j): Part => {
    if (part.type === "text" && typeof part.text === "string") return { text: part.text };
    const image = part.image_url as { url?: unknown } | undefined;
    if (part.type === "image_url" && typeof image?.url === "string") return imagePart(image.url, `${param}[${j}].image_url.url`);
    throw new GatewayError("invalid_request", "This content part type is not supported by the provider.", {
      param: `${param}[${j}].type`,
    });
  });
}

const DATA_URL = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.+)$/is;
const EXTENSION_TYPES: Record<string, string> = {
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  heic: "image/heic",
  heif: "image/heif",
};

function imagePart(url: string, param: string): Part {
  const data = DATA_URL.exec(url);
  if (data) return { inlineData: { mimeType: data[1]!.toLowerCase(), data: data[2]! } };
  if (/^(https?|gs):\/\//i.test(url)) {
    // fileData needs a MIME type and an image_url part carries none: guess from the extension.
    const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(url)?.[1]?.toLowerCase() ?? "";
    return { fileData: { mimeType: EXTENSION_TYPES[extension] ?? "image/jpeg", fileUri: url } };
  }
  throw new GatewayError("invalid_request", "Image URLs must be http(s), gs:// or base64 data: URLs.", { param });
}

function modelParts(message: AssistantMessage, callNames: Map<string, string>): Part[] {
  const parts: Part[] = [];
  const content = message.content ?? [];
  const textList = typeof content === "string" ? [content] : content.flatMap((p) => (p.type === "text" && typeof p.text === "string" ? [p.text] : []));
  for (const text of textList) if (text !== "") parts.push({ text });
  for (const call of message.tool_calls ?? []) {
    callNames.set(call.id, call.function.name);
    parts.push({ functionCall: { name: call.function.name, args: jsonObject(call.function.arguments) ?? {} } });
  }
  return parts;
}

function functionResponse(message: ToolMessage, callNames: Map<string, string>, i: number): Part {
  const name = callNames.get(message.tool_call_id);
  if (name === undefined) {
    throw new GatewayError("invalid_request", "No earlier assistant tool call has this tool_call_id.", {
      param: `messages[${i}].tool_call_id`,
    });
  }
  const text = texts(message.content).join("");
  // `response` must be an object: a JSON object result is passed as is, anything else is wrapped.
  return { functionResponse: { name, response: jsonObject(text) ?? { result: text } } };
}

function jsonObject(text: string): Record<string, unknown> | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return null;
}
