import type { ChatCompletionRequest } from "../../openai/schema";
import type { AdapterContext } from "../types";
import { translateContents } from "./contents";
import type { FunctionCallingConfig, GenerateContentBody, GenerationConfig } from "./wire";

/** OpenAI request → Gemini `GenerateContentRequest` (reference §3.2, §3.7). */

/** reasoning_effort → thinking budget, the table of Google's own OpenAI-compatible endpoint (§3.6). */
const THINKING_BUDGET: Record<string, number> = { none: 0, low: 1024, medium: 8192, high: 24576 };

export function buildGenerateContentBody(request: ChatCompletionRequest, ctx: AdapterContext): GenerateContentBody {
  const { system, contents } = translateContents(request.messages);
  const body: GenerateContentBody = { contents };
  if (system.length > 0) body.systemInstruction = { parts: system };
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    body.tools = [
      {
        functionDeclarations: tools.map((tool) => ({
          name: tool.function.name,
          ...(tool.function.description !== undefined ? { description: tool.function.description } : {}),
          ...(tool.function.parameters !== undefined ? { parametersJsonSchema: tool.function.parameters } : {}),
        })),
      },
    ];
    if (request.tool_choice !== undefined) body.toolConfig = { functionCallingConfig: callingConfig(request.tool_choice) };
  }
  const generationConfig = buildGenerationConfig(request, ctx);
  if (Object.keys(generationConfig).length > 0) body.generationConfig = generationConfig;
  return body;
}

function callingConfig(choice: NonNullable<ChatCompletionRequest["tool_choice"]>): FunctionCallingConfig {
  if (choice === "auto") return { mode: "AUTO" };
  if (choice === "none") return { mode: "NONE" };
  if (choice === "required") return { mode: "ANY" };
  return { mode: "ANY", allowedFunctionNames: [choice.function.name] };
}

function buildGenerationConfig(request: ChatCompletionRequest, ctx: AdapterContext): GenerationConfig {
  const config: GenerationConfig = {};
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? ctx.defaultMaxTokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  const stops = request.stop == null ? [] : typeof request.stop === "string" ? [request.stop] : request.stop;
  if (stops.length > 0) config.stopSequences = stops;
  if (request.n != null) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  const format = request.response_format;
  if (format?.type === "json_object" || format?.type === "json_schema") config.responseMimeType = "application/json";
  if (format?.type === "json_schema" && format.json_schema.schema) config.responseJsonSchema = format.json_schema.schema;
  // `reasoning_effort` is not in our schema (it passes through loosely); unknown values are ignored.
  const effort = (request as { reasoning_effort?: unknown }).reasoning_effort;
  const budget = typeof effort === "string" ? THINKING_BUDGET[effort] : undefined;
  if (budget !== undefined) config.thinkingConfig = { thinkingBudget: budget };
  return config;
}
