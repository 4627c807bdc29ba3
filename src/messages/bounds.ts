import { imageTokens } from "../proxy/estimate";
import type { UnboundedField } from "../proxy/unbounded-fields";
import type { CountTokensRequest } from "./schema";

/**
 * The worst case of a Messages request forwarded natively to Anthropic (reference agent-apis §6.3).
 * Input: UTF-8 bytes / 3 of the whole body as forwarded (every field counts, known or not), with each
 * image replaced by the fixed allowance of estimate.ts, plus an allowance for the system prompt
 * Anthropic adds for each of its own tool types. Output: `max_tokens`, which is required and also
 * bounds thinking, so the reservation is exact on that side.
 */

const BYTES_PER_TOKEN = 3;
/** Anthropic-defined tools (bash, text_editor, computer, …) add a hidden system prompt: ≤ ~700 tokens each as documented. */
const ANTHROPIC_TOOL_TOKENS = 1_000;
const IMAGE_STUB = { type: "image" };

const encoder = new TextEncoder();

/** Images stubbed out wherever they appear (turns, tool results), counting them. */
function stubImages(value: unknown, counter: { images: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => stubImages(v, counter));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  if (record.type === "image") {
    counter.images += 1;
    return IMAGE_STUB;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, stubImages(v, counter)]));
}

const isClientTool = (tool: { type?: string | null | undefined }) => tool.type == null || tool.type === "custom";

export function estimateMessagesPromptTokens(request: CountTokensRequest, model: string): number {
  const counter = { images: 0 };
  const { messages, system, ...rest } = request;
  const stubbed = { ...rest, system: stubImages(system, counter), messages: stubImages(messages, counter) };
  const bytes = encoder.encode(JSON.stringify(stubbed)).byteLength;
  const builtinTools = (request.tools ?? []).filter((t) => !isClientTool(t)).length;
  return Math.ceil(bytes / BYTES_PER_TOKEN) + counter.images * imageTokens(model) + builtinTools * ANTHROPIC_TOOL_TOKENS;
}

function refuse(param: string, kind: UnboundedField["kind"], why: string): UnboundedField {
  return { param, kind, message: `The parameter '${param}' cannot be used with a capped key: ${why}.` };
}

/** Why a content block's input tokens do not follow from the request bytes, or null when they do. */
function unboundedBlock(block: { type?: unknown; source?: unknown }): string | null {
  const source = (block.source ?? null) as { type?: unknown } | null;
  // A PDF is billed per page (text plus a page image) and a file or URL is read by Anthropic;
  // plain-text and content documents are in the request.
  if (block.type === "document" && source?.type !== "text" && source?.type !== "content") {
    return "a PDF, file or URL document is billed by its pages, which the request does not show";
  }
  if (block.type === "container_upload") return "an uploaded file is read by the provider";
  return null;
}

/** Server tools whose results or fees are not in the request (reference §6.3). */
const SERVER_TOOLS: Array<{ prefix: string; kind: UnboundedField["kind"]; why: string }> = [
  { prefix: "web_search", kind: "tokens", why: "search results are added to the input and each search has a fee, neither known in advance" },
  { prefix: "web_fetch", kind: "tokens", why: "fetched pages are added to the input, their size is not in the request" },
  { prefix: "code_execution", kind: "dollars", why: "code execution bills container time the price table does not have" },
  { prefix: "tool_search", kind: "tokens", why: "the tools it loads are added to the input, their size is not in the request" },
];

/**
 * The first field whose cost cannot be bounded from the request, or null. A capped key refuses it
 * (400 naming the field) rather than reserving a guess, as src/proxy/unbounded-fields.ts does for chat.
 */
export function unboundedMessagesField(request: CountTokensRequest & Record<string, unknown>): UnboundedField | null {
  for (const [i, tool] of (request.tools ?? []).entries()) {
    const server = SERVER_TOOLS.find((s) => typeof tool.type === "string" && tool.type.startsWith(s.prefix));
    if (server) return refuse(`tools[${i}]`, server.kind, server.why);
  }
  if (request.mcp_servers != null)
    return refuse("mcp_servers", "tokens", "MCP tool definitions and results are added to the input, their size is not in the request");
  if (request.container != null) return refuse("container", "dollars", "code execution bills container time the price table does not have");
  for (const [i, message] of request.messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const [j, block] of message.content.entries()) {
      // Tool results carry blocks of their own.
      const nested = block.type === "tool_result" && Array.isArray(block.content) ? (block.content as Array<{ type?: unknown }>) : [];
      for (const part of [block, ...nested]) {
        const why = unboundedBlock(part);
        if (why) return refuse(`messages[${i}].content[${j}]`, "tokens", why);
      }
    }
  }
  if (request.inference_geo != null && request.inference_geo !== "global") {
    return refuse("inference_geo", "dollars", "regional inference is billed above the list prices a spend cap is computed with");
  }
  if (request.speed != null && request.speed !== "standard") {
    return refuse("speed", "dollars", "fast mode is billed above the list prices a spend cap is computed with");
  }
  return null;
}
