import { GatewayError } from "../errors";
import type { ChatCompletionRequest, ChatMessage } from "../openai/schema";
import type { GeminiContent, GeminiPart, GenerateContentRequest } from "./schema";

/**
 * A Gemini request for a model with no Gemini API (gpt-*, claude-*, custom, mock/*) → a Chat
 * Completions request, which the provider's existing adapter then sends. What Chat cannot carry is
 * dropped where it only tunes the answer (thinkingConfig, safetySettings, thought parts and their
 * signatures, topK) and refused with a 400 where the answer would otherwise be silently wrong
 * (built-in tools, cached content, files and non-image media).
 */

type Part = { type: "text"; text: string } | { type: "image_url"; image_url: { url: string } };
type ToolCall = { id: string; type: "function"; function: { name: string; arguments: string } };

function unsupported(param: string, what: string): GatewayError {
  return new GatewayError("invalid_request", `${what} is supported only for Gemini models.`, { param });
}

/**
 * Gemini's OpenAPI-subset schemas (`parameters`, `responseSchema`) as JSON Schema: upper-case types
 * (`OBJECT`, what @google/genai's `Type` enum sends) lower-cased, `nullable` folded into the type,
 * `propertyOrdering` (Gemini's own) dropped.
 */
export function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf);
  if (schema === null || typeof schema !== "object") return schema;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === "propertyOrdering" || key === "nullable") continue;
    if (key === "type" && typeof value === "string") out.type = value.toLowerCase();
    else if (key === "properties" && value !== null && typeof value === "object") {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSchemaOf(v)]));
    } else if (key === "items" || key === "anyOf") out[key] = jsonSchemaOf(value);
    else out[key] = value;
  }
  if ((schema as { nullable?: unknown }).nullable === true && typeof out.type === "string") out.type = [out.type, "null"];
  return out;
}

function userPart(part: GeminiPart, param: string): Part | null {
  if (part.thought) return null;
  if (part.text !== undefined) return { type: "text", text: part.text };
  if (part.inlineData) {
    if (!part.inlineData.mimeType.startsWith("image/")) throw unsupported(`${param}.inlineData`, `Inline '${part.inlineData.mimeType}' data`);
    return { type: "image_url", image_url: { url: `data:${part.inlineData.mimeType};base64,${part.inlineData.data}` } };
  }
  if (part.fileData && /^https?:\/\//i.test(part.fileData.fileUri) && (part.fileData.mimeType ?? "image/").startsWith("image/")) {
    return { type: "image_url", image_url: { url: part.fileData.fileUri } };
  }
  const kind = Object.keys(part).find((k) => k !== "thoughtSignature") ?? "empty";
  throw unsupported(param, `A '${kind}' part`);
}

/** Gemini answers a call by name (and optionally id); Chat by id: calls get ids here, answers find them. */
class CallIds {
  private pending: ToolCall[] = [];
  private counter = 0;

  open(name: string, args: unknown, id: string | undefined): ToolCall {
    const call: ToolCall = { id: id ?? `call_${this.counter++}`, type: "function", function: { name, arguments: JSON.stringify(args ?? {}) } };
    this.pending.push(call);
    return call;
  }

  answer(name: string, id: string | undefined, param: string): string {
    const at = this.pending.findIndex((c) => (id !== undefined ? c.id === id : c.function.name === name));
    if (at < 0) throw new GatewayError("invalid_request", "No earlier functionCall matches this functionResponse.", { param });
    return this.pending.splice(at, 1)[0]!.id;
  }
}

function modelMessage(content: GeminiContent, calls: CallIds): ChatMessage | null {
  const text = content.parts
    .filter((p) => p.text !== undefined && !p.thought)
    .map((p) => p.text)
    .join("");
  const toolCalls = content.parts.flatMap((p) => (p.functionCall ? [calls.open(p.functionCall.name, p.functionCall.args, p.functionCall.id)] : []));
  if (text === "" && toolCalls.length === 0) return null;
  return { role: "assistant", content: text === "" ? null : text, ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}) };
}

function userMessages(content: GeminiContent, i: number, calls: CallIds): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: Part[] = [];
  content.parts.forEach((part, j) => {
    const param = `contents[${i}].parts[${j}]`;
    if (part.functionResponse) {
      const { name, id, response } = part.functionResponse;
      tools.push({ role: "tool", tool_call_id: calls.answer(name, id, param), content: JSON.stringify(response ?? {}) });
    } else if (part.functionCall) throw unsupported(param, "A functionCall in a user turn");
    else {
      const converted = userPart(part, param);
      if (converted) parts.push(converted);
    }
  });
  if (parts.length === 0) return tools;
  const text = parts.every((p) => p.type === "text");
  return [...tools, { role: "user", content: text ? parts.map((p) => (p as { text: string }).text).join("") : parts } as ChatMessage];
}

function toolChoice(request: GenerateContentRequest): ChatCompletionRequest["tool_choice"] | undefined {
  const config = request.toolConfig?.functionCallingConfig;
  const mode = config?.mode?.toUpperCase();
  if (mode === "NONE") return "none";
  if (mode === "ANY" || mode === "VALIDATED") {
    const names = config?.allowedFunctionNames ?? [];
    return names.length === 1 ? { type: "function", function: { name: names[0]! } } : "required";
  }
  return mode === "AUTO" ? "auto" : undefined;
}

function responseFormat(request: GenerateContentRequest): ChatCompletionRequest["response_format"] | undefined {
  const config = request.generationConfig;
  const mime = config?.responseMimeType;
  if (mime === undefined || mime === "text/plain") return undefined;
  if (mime !== "application/json") throw unsupported("generationConfig.responseMimeType", `responseMimeType '${mime}'`);
  const schema = config?.responseJsonSchema ?? (config?.responseSchema ? jsonSchemaOf(config.responseSchema) : undefined);
  if (schema !== null && typeof schema === "object")
    return { type: "json_schema", json_schema: { name: "response", schema: schema as Record<string, unknown> } };
  return { type: "json_object" };
}

/** Sent as `max_completion_tokens` to OpenAI (its reasoning models refuse `max_tokens`), `max_tokens` to the rest. */
export function geminiToChat(request: GenerateContentRequest, model: string, provider: string): ChatCompletionRequest {
  if (request.cachedContent !== undefined) throw unsupported("cachedContent", "Cached content");
  const messages: ChatMessage[] = [];
  const system = (request.systemInstruction?.parts ?? [])
    .map((p, j) => {
      if (p.text === undefined) throw unsupported(`systemInstruction.parts[${j}]`, "A non-text system part");
      return p.text;
    })
    .join("\n");
  if (system !== "") messages.push({ role: "system", content: system });
  const calls = new CallIds();
  request.contents.forEach((content, i) => {
    if (content.role === "model") {
      const message = modelMessage(content, calls);
      if (message) messages.push(message);
    } else messages.push(...userMessages(content, i, calls));
  });
  if (!messages.some((m) => m.role !== "system")) throw new GatewayError("invalid_request", "The request has no content to answer.", { param: "contents" });

  const chat: ChatCompletionRequest = { model, messages };
  const config = request.generationConfig ?? {};
  if (config.maxOutputTokens !== undefined) {
    if (provider === "openai") chat.max_completion_tokens = config.maxOutputTokens;
    else chat.max_tokens = config.maxOutputTokens;
  }
  if (config.temperature !== undefined) chat.temperature = config.temperature;
  if (config.topP !== undefined) chat.top_p = config.topP;
  if (config.seed !== undefined) chat.seed = config.seed;
  if (config.candidateCount !== undefined && config.candidateCount > 1) chat.n = config.candidateCount;
  const stops = config.stopSequences ?? [];
  if (stops.length > 4)
    throw new GatewayError("invalid_request", "At most 4 stop sequences are supported for this model.", { param: "generationConfig.stopSequences" });
  if (stops.length > 0) chat.stop = stops;
  const format = responseFormat(request);
  if (format) chat.response_format = format;

  const tools: NonNullable<ChatCompletionRequest["tools"]> = [];
  for (const [i, tool] of (request.tools ?? []).entries()) {
    const builtin = Object.keys(tool).find((k) => k !== "functionDeclarations");
    if (builtin) throw unsupported(`tools[${i}].${builtin}`, `The '${builtin}' tool`);
    for (const decl of tool.functionDeclarations ?? []) {
      const parameters = decl.parametersJsonSchema ?? (decl.parameters ? jsonSchemaOf(decl.parameters) : { type: "object", properties: {} });
      tools.push({
        type: "function",
        function: {
          name: decl.name,
          ...(decl.description !== undefined ? { description: decl.description } : {}),
          parameters: parameters as Record<string, unknown>,
        },
      });
    }
  }
  if (tools.length > 0) {
    chat.tools = tools;
    const choice = toolChoice(request);
    if (choice !== undefined) chat.tool_choice = choice;
  }
  return chat;
}
