import { imageTokens } from "../proxy/estimate";
import type { UnboundedField } from "../proxy/unbounded-fields";
import type { ResponsesRequest } from "./schema";

/**
 * The worst case of a /v1/responses request, for the KeyGuard reservation (reference agent-apis
 * §6.3), by the chat route's rules: UTF-8 bytes / 3 of everything forwarded, images at a fixed
 * allowance; and the fields whose cost the request itself does not bound, refused on capped keys.
 */

const encoder = new TextEncoder();
const BYTES_PER_TOKEN = 3;
const IMAGE_STUB = { type: "input_image" };

/** Every `input_image` part, wherever it sits (message content, function_call_output arrays). */
function stubImages(value: unknown, count: { images: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => stubImages(v, count));
  if (value === null || typeof value !== "object") return value;
  if ((value as { type?: unknown }).type === "input_image") {
    count.images += 1;
    return IMAGE_STUB;
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stubImages(v, count)]));
}

export function estimateResponsesPromptTokens(request: ResponsesRequest, model: string): number {
  const count = { images: 0 };
  const stubbed = stubImages(request, count);
  return Math.ceil(encoder.encode(JSON.stringify(stubbed)).byteLength / BYTES_PER_TOKEN) + count.images * imageTokens(model);
}

/** Tools that run on OpenAI's servers: their results join the input, and some bill per call or per image. */
function serverTool(type: string): UnboundedField["kind"] | null {
  if (type.startsWith("web_search") || type === "file_search" || type === "code_interpreter" || type === "mcp") return "tokens";
  if (type === "image_generation") return "dollars";
  return null;
}

const LIST_PRICE_TIERS = new Set(["auto", "default", "flex"]);

function refuse(param: string, kind: UnboundedField["kind"], why: string): UnboundedField {
  return { param, kind, message: `The parameter '${param}' cannot be used with a capped key: ${why}.` };
}

/** The first field whose cost cannot be bounded before the call, or null (`stateParam`: see native.ts). */
export function unboundedResponsesField(request: ResponsesRequest, stateParam: string | null): UnboundedField | null {
  if (stateParam !== null) {
    return refuse(stateParam, "tokens", "it pulls in context stored at OpenAI whose size is not in the request; send the whole conversation with store: false");
  }
  for (const [i, tool] of (request.tools ?? []).entries()) {
    const kind = serverTool(tool.type);
    if (kind) return refuse(`tools[${i}]`, kind, `the built-in tool '${tool.type}' runs on OpenAI's servers and adds results or fees not known in advance`);
  }
  if (Array.isArray(request.input)) {
    for (const [i, item] of request.input.entries()) {
      const content = (item as { content?: unknown }).content;
      if (!Array.isArray(content)) continue;
      for (const [j, part] of content.entries()) {
        if ((part as { type?: unknown })?.type === "input_file") {
          return refuse(`input[${i}].content[${j}]`, "tokens", "a file is read by the provider and its size in tokens is not in the request");
        }
      }
    }
  }
  const tier = (request as { service_tier?: unknown }).service_tier;
  if (tier != null && !(typeof tier === "string" && LIST_PRICE_TIERS.has(tier))) {
    return refuse("service_tier", "dollars", "only 'auto', 'default' and 'flex' are billed at the list prices a spend cap is computed with");
  }
  return null;
}
