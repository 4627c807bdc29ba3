import { GatewayError } from "../errors";
import type { ChatCompletionRequest, ChatMessage, FunctionTool } from "../openai/schema";
import { isFunctionTool, type ResponsesRequest } from "./schema";

/**
 * A Responses request → a Chat Completions request for the providers without a Responses API
 * (reference agent-apis §3.2), sent on through their existing chat adapters. KeyForge keeps no
 * response store, so everything that points at server-side state (previous_response_id,
 * conversation, item_reference, file ids, stored prompts) and OpenAI's built-in tools is refused
 * with a 400 naming the field, never silently dropped.
 */

type Json = Record<string, unknown>;
type ChatPart = { type: string; [key: string]: unknown };
type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;
type ToolCall = NonNullable<AssistantMessage["tool_calls"]>[number];

function invalid(param: string, message: string): GatewayError {
  return new GatewayError("invalid_request", message, { param });
}

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

function requireString(value: unknown, param: string): string {
  if (typeof value !== "string") throw invalid(param, `Invalid '${param}': expected a string.`);
  return value;
}

const STATELESS_HINT = "KeyForge keeps no stored responses for this model: send the whole conversation in 'input' (store: false).";

/** The request-level fields that need stored state or OpenAI's servers. */
function refuseStatefulFields(request: ResponsesRequest): void {
  if (request.previous_response_id) throw invalid("previous_response_id", `'previous_response_id' is not supported for this model. ${STATELESS_HINT}`);
  if (request.conversation) throw invalid("conversation", `'conversation' is not supported for this model. ${STATELESS_HINT}`);
  if (request.background) throw invalid("background", "'background' responses are not supported through KeyForge; stream instead.");
  if ((request as { prompt?: unknown }).prompt != null) {
    throw invalid("prompt", "Stored prompt templates ('prompt') exist only on OpenAI; send 'instructions' and 'input' instead.");
  }
}

function imagePart(part: Json, param: string): ChatPart {
  if (part.file_id != null) throw invalid(`${param}.file_id`, "Images by 'file_id' need OpenAI's file store; send 'image_url' (an https or data: URL).");
  const url = requireString(part.image_url, `${param}.image_url`);
  const detail = part.detail === "low" || part.detail === "high" || part.detail === "auto" ? { detail: part.detail } : {};
  return { type: "image_url", image_url: { url, ...detail } };
}

function filePart(part: Json, param: string): ChatPart {
  if (typeof part.file_data !== "string") {
    throw invalid(param, "Files by 'file_id' or 'file_url' need OpenAI's file store; send 'file_data' (base64) instead.");
  }
  return { type: "file", file: { file_data: part.file_data, ...(typeof part.filename === "string" ? { filename: part.filename } : {}) } };
}

/** One content part of an input message → a chat part. */
function contentPart(part: unknown, param: string): ChatPart {
  if (!isObject(part)) throw invalid(param, `Invalid '${param}': expected an object.`);
  switch (part.type) {
    case "input_text":
    case "output_text":
    case "text":
      return { type: "text", text: requireString(part.text, `${param}.text`) };
    case "input_image":
      return imagePart(part, param);
    case "input_file":
      return filePart(part, param);
    default:
      throw invalid(`${param}.type`, `Content parts of type '${String(part.type)}' cannot be translated for this model.`);
  }
}

function textOnly(parts: ChatPart[], param: string): Array<{ type: "text"; text: string }> {
  return parts.map((part, j) => {
    if (part.type !== "text") throw invalid(`${param}[${j}]`, "Only text is allowed here.");
    return { type: "text", text: part.text as string };
  });
}

function messageItem(item: Json, param: string): ChatMessage {
  const role = item.role;
  const content = item.content;
  if (role === "assistant") {
    // Replayed output: output_text parts become the text, a refusal part the refusal; `phase` is dropped.
    if (typeof content === "string") return { role, content };
    if (!Array.isArray(content)) throw invalid(`${param}.content`, `Invalid '${param}.content': expected a string or an array.`);
    let text = "";
    let refusal: string | null = null;
    content.forEach((part: unknown, j) => {
      if (isObject(part) && part.type === "refusal") refusal = requireString(part.refusal, `${param}.content[${j}].refusal`);
      else text += (contentPart(part, `${param}.content[${j}]`) as { text?: unknown }).text ?? "";
    });
    return { role, content: text === "" && refusal !== null ? null : text, ...(refusal !== null ? { refusal } : {}) };
  }
  if (role !== "user" && role !== "system" && role !== "developer") {
    throw invalid(`${param}.role`, `Invalid '${param}.role': expected user, assistant, system or developer.`);
  }
  if (typeof content === "string") return { role, content };
  if (!Array.isArray(content) || content.length === 0) throw invalid(`${param}.content`, `Invalid '${param}.content': expected a string or a non-empty array.`);
  const parts = content.map((part: unknown, j) => contentPart(part, `${param}.content[${j}]`));
  return role === "user" ? { role, content: parts } : { role, content: textOnly(parts, `${param}.content`) };
}

function toolOutput(output: unknown, param: string): string | Array<{ type: "text"; text: string }> {
  if (typeof output === "string") return output;
  if (!Array.isArray(output)) throw invalid(param, `Invalid '${param}': expected a string or an array.`);
  return textOnly(
    output.map((part: unknown, j) => contentPart(part, `${param}[${j}]`)),
    param,
  );
}

/**
 * Function calls join the assistant message right before them, so a turn of text + calls (or of
 * parallel calls) stays one assistant message: Anthropic needs its tool_use blocks together.
 */
function appendToolCall(messages: ChatMessage[], call: ToolCall): void {
  const last = messages[messages.length - 1];
  if (last?.role === "assistant") (last.tool_calls ??= []).push(call);
  else messages.push({ role: "assistant", content: null, tool_calls: [call] });
}

const ITEM_HINTS: Record<string, string> = {
  item_reference: `'item_reference' points at a stored item. ${STATELESS_HINT} (Vercel AI SDK: providerOptions.openai.store = false.)`,
};

function inputMessages(input: ResponsesRequest["input"]): ChatMessage[] {
  if (typeof input === "string") return [{ role: "user", content: input }];
  const messages: ChatMessage[] = [];
  input.forEach((raw, i) => {
    const item = raw as Json;
    const param = `input[${i}]`;
    const type = item.type ?? (item.role !== undefined ? "message" : undefined);
    switch (type) {
      case "message":
        messages.push(messageItem(item, param));
        break;
      case "function_call":
        appendToolCall(messages, {
          id: requireString(item.call_id, `${param}.call_id`),
          type: "function",
          function: { name: requireString(item.name, `${param}.name`), arguments: requireString(item.arguments, `${param}.arguments`) },
        });
        break;
      case "function_call_output":
        messages.push({ role: "tool", tool_call_id: requireString(item.call_id, `${param}.call_id`), content: toolOutput(item.output, `${param}.output`) });
        break;
      case "reasoning":
        // OpenAI's encrypted reasoning means nothing to another provider (reference §3.5): dropped.
        break;
      default: {
        const name = typeof type === "string" ? type : "(none)";
        throw invalid(`${param}.type`, ITEM_HINTS[name] ?? `Input items of type '${name}' belong to OpenAI's built-in tools and cannot be sent to this model.`);
      }
    }
  });
  return messages;
}

function chatTools(request: ResponsesRequest): FunctionTool[] | undefined {
  if (!request.tools || request.tools.length === 0) return undefined;
  return request.tools.map((tool, i): FunctionTool => {
    if (!isFunctionTool(tool)) {
      throw invalid(`tools[${i}].type`, `'${tool.type}' is one of OpenAI's built-in tools; only function tools can be used with this model.`);
    }
    return {
      type: "function",
      function: {
        name: tool.name,
        ...(tool.description != null ? { description: tool.description } : {}),
        ...(tool.parameters != null ? { parameters: tool.parameters } : {}),
        ...(tool.strict != null ? { strict: tool.strict } : {}),
      },
    };
  });
}

/**
 * tool_choice → chat. `allowed_tools` has no chat equivalent in the adapters, but for one request
 * it means exactly "these tools, in this mode": the tool list is narrowed to them.
 */
function applyToolChoice(request: ResponsesRequest, chat: ChatCompletionRequest): void {
  const choice = request.tool_choice;
  if (choice === undefined) return;
  if (typeof choice === "string") {
    chat.tool_choice = choice;
    return;
  }
  const named = (choice as { name?: unknown }).name;
  if (choice.type === "function" && typeof named === "string") {
    chat.tool_choice = { type: "function", function: { name: named } };
    return;
  }
  if (choice.type === "allowed_tools") {
    const { mode, tools } = choice as { mode?: unknown; tools?: unknown };
    if ((mode !== "auto" && mode !== "required") || !Array.isArray(tools)) {
      throw invalid("tool_choice", "Invalid 'tool_choice': allowed_tools needs mode auto or required and a tools array.");
    }
    const allowed = new Set(tools.map((t: unknown) => (isObject(t) && t.type === "function" ? t.name : undefined)));
    chat.tools = (chat.tools ?? []).filter((tool) => allowed.has(tool.function.name));
    chat.tool_choice = chat.tools.length === 0 ? "none" : mode;
    if (chat.tools.length === 0) delete chat.tools;
    return;
  }
  throw invalid("tool_choice", `tool_choice of type '${choice.type}' needs OpenAI's built-in tools; use auto, none, required or a function.`);
}

function applyTextFormat(request: ResponsesRequest, chat: ChatCompletionRequest): void {
  const format = request.text?.format;
  if (format?.type === "json_object") chat.response_format = { type: "json_object" };
  if (format?.type === "json_schema") {
    const { name, schema, description, strict } = format as { name: string; schema: Json; description?: string | null; strict?: boolean | null };
    chat.response_format = {
      type: "json_schema",
      json_schema: { name, schema, ...(description != null ? { description } : {}), ...(strict != null ? { strict } : {}) },
    };
  }
  const verbosity = request.text?.verbosity;
  if (verbosity != null) (chat as Json).verbosity = verbosity;
}

/** The chat request for `request`, or a 400 naming the first field that cannot be translated. */
export function responsesToChat(request: ResponsesRequest): ChatCompletionRequest {
  refuseStatefulFields(request);
  const messages = inputMessages(request.input);
  if (request.instructions) messages.unshift({ role: "system", content: request.instructions });
  if (messages.length === 0) throw invalid("input", "'input' has no message to answer.");
  const chat: ChatCompletionRequest = { model: request.model, messages };
  const tools = chatTools(request);
  if (tools) chat.tools = tools;
  applyToolChoice(request, chat);
  if (request.parallel_tool_calls != null && chat.tools) chat.parallel_tool_calls = request.parallel_tool_calls;
  applyTextFormat(request, chat);
  if (request.max_output_tokens != null) chat.max_completion_tokens = request.max_output_tokens;
  if (request.temperature != null) chat.temperature = request.temperature;
  if (request.top_p != null) chat.top_p = request.top_p;
  // The adapters map reasoning_effort on to Anthropic thinking budgets / Gemini thinkingConfig.
  if (request.reasoning?.effort != null) (chat as Json).reasoning_effort = request.reasoning.effort;
  if (request.user != null) chat.user = request.user;
  if (request.stream) chat.stream = true;
  return chat;
}
