import { GatewayError } from "../../errors";
import type { ChatCompletionRequest } from "../../openai/schema";
import type { AdapterContext } from "../types";
import { JSON_TOOL, JSON_TOOL_CHOICE, JSON_TOOL_NAME } from "./json-mode";
import { translateMessages } from "./messages";
import type { MessagesRequestBody, ToolChoice, ToolDefinition } from "./wire";

/** OpenAI request → Anthropic `MessageCreateParams` (reference §2.2, §2.8). */

/**
 * `max_tokens` is required by Anthropic. Through the gateway the client's or an injected bound always
 * comes in `ctx.defaultMaxTokens` (the model's maximum by default, src/policy/admission.ts, and
 * signalled); this is only the fallback for a context without one (LiteLLM's default).
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** reasoning_effort → thinking budget (LiteLLM's table); budgets must be ≥ 1024 and < max_tokens. */
const THINKING_BUDGET: Record<string, number> = { low: 1024, medium: 2048, high: 4096 };

export function buildMessagesBody(request: ChatCompletionRequest, ctx: AdapterContext): MessagesRequestBody {
  if (request.n != null && request.n > 1) {
    throw new GatewayError("invalid_request", "This provider supports only n = 1.", { param: "n" });
  }
  const { system, messages } = translateMessages(request.messages);
  const body: MessagesRequestBody = {
    model: ctx.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? ctx.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length > 0) body.system = system;
  const stops = stopSequences(request.stop);
  if (stops.length > 0) body.stop_sequences = stops;
  // Anthropic's range is 0–1; OpenAI allows up to 2. Capping is what Anthropic's own compat layer does.
  if (request.temperature != null) body.temperature = Math.min(request.temperature, 1);
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.user) body.metadata = { user_id: request.user };
  applyTools(body, request);
  applyResponseFormat(body, request);
  applyThinking(body, request);
  if (ctx.stream) body.stream = true;
  return body;
}

/** Anthropic rejects whitespace-only stop sequences (reference §2.9). */
function stopSequences(stop: ChatCompletionRequest["stop"]): string[] {
  const list = stop == null ? [] : typeof stop === "string" ? [stop] : stop;
  return list.filter((s) => s.trim() !== "");
}

function applyTools(body: MessagesRequestBody, request: ChatCompletionRequest): void {
  const tools = request.tools ?? [];
  tools.forEach((tool, i) => {
    if (tool.function.name === JSON_TOOL_NAME) {
      throw new GatewayError("invalid_request", `The tool name "${JSON_TOOL_NAME}" is reserved.`, {
        param: `tools[${i}].function.name`,
      });
    }
  });
  if (tools.length === 0) return;
  body.tools = tools.map((tool): ToolDefinition => ({
    name: tool.function.name,
    ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
    input_schema: tool.function.parameters ?? { type: "object", properties: {} },
  }));
  const choice = toolChoice(request.tool_choice ?? "auto");
  if (request.parallel_tool_calls === false && choice.type !== "none") choice.disable_parallel_tool_use = true;
  // "auto" is Anthropic's default; sending it only when it carries the parallel switch keeps bodies minimal.
  if (choice.type !== "auto" || choice.disable_parallel_tool_use) body.tool_choice = choice;
}

function toolChoice(choice: NonNullable<ChatCompletionRequest["tool_choice"]>): ToolChoice {
  if (choice === "auto") return { type: "auto" };
  if (choice === "none") return { type: "none" };
  if (choice === "required") return { type: "any" };
  return { type: "tool", name: choice.function.name };
}

function applyResponseFormat(body: MessagesRequestBody, request: ChatCompletionRequest): void {
  const format = request.response_format;
  if (!format || format.type === "text") return;
  if (format.type === "json_schema" && format.json_schema.schema) {
    body.output_config = { format: { type: "json_schema", schema: format.json_schema.schema } };
    return;
  }
  // json_object (or a json_schema without a schema): the forced-tool emulation, see json-mode.ts.
  body.tools = [...(body.tools ?? []), JSON_TOOL];
  body.tool_choice = { ...JSON_TOOL_CHOICE };
}

/**
 * `reasoning_effort` (not in our schema, passed through loosely) → manual thinking budget. Skipped
 * when the budget does not fit under max_tokens or a tool is forced (Anthropic rejects forced tools
 * with thinking). Thinking requires default sampling, so temperature and top_p are dropped.
 */
function applyThinking(body: MessagesRequestBody, request: ChatCompletionRequest): void {
  const effort = (request as { reasoning_effort?: unknown }).reasoning_effort;
  const budget = typeof effort === "string" ? THINKING_BUDGET[effort] : undefined;
  if (budget === undefined || budget >= body.max_tokens) return;
  if (body.tool_choice?.type === "tool" || body.tool_choice?.type === "any") return;
  body.thinking = { type: "enabled", budget_tokens: budget };
  delete body.temperature;
  delete body.top_p;
}
