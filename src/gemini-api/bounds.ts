import { imageTokens } from "../proxy/estimate";
import type { UnboundedField } from "../proxy/unbounded-fields";
import type { GenerateContentRequest } from "./schema";

/**
 * The worst case of a Gemini request forwarded natively. Input: UTF-8 bytes / 3 of the whole body
 * as forwarded (every field counts, known or not), each inline image replaced by the fixed image
 * allowance of estimate.ts (an image bills by its tiles, not its bytes; audio, video and PDFs bill
 * per second or page, fewer tokens than their base64 bytes / 3). Output: `maxOutputTokens` per
 * candidate, times `candidateCount`; on Gemini 2.5 and 3 it bounds thinking tokens too.
 */

const BYTES_PER_TOKEN = 3;
const encoder = new TextEncoder();
const IMAGE_STUB = { inlineData: { mimeType: "image/*" } };

function stubImages(value: unknown, counter: { images: number }): unknown {
  if (Array.isArray(value)) return value.map((v) => stubImages(v, counter));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const inline = record.inlineData as { mimeType?: unknown } | undefined;
  if (inline && typeof inline.mimeType === "string" && inline.mimeType.startsWith("image/")) {
    counter.images += 1;
    return IMAGE_STUB;
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, stubImages(v, counter)]));
}

export function estimateGeminiPromptTokens(body: unknown, model: string): number {
  const counter = { images: 0 };
  const bytes = encoder.encode(JSON.stringify(stubImages(body, counter))).byteLength;
  return Math.ceil(bytes / BYTES_PER_TOKEN) + counter.images * imageTokens(model);
}

export function outputBound(request: GenerateContentRequest): { maxTokens: number | null; choices: number } {
  return { maxTokens: request.generationConfig?.maxOutputTokens ?? null, choices: request.generationConfig?.candidateCount ?? 1 };
}

function refuse(param: string, why: string): UnboundedField {
  return { param, kind: "tokens", message: `The parameter '${param}' cannot be used with a capped key: ${why}.` };
}

/**
 * The first field whose input the request does not carry, or null: a capped key refuses it (400
 * naming the field) rather than reserving a guess, as src/proxy/unbounded-fields.ts does for chat.
 * Built-in tools (Google Search, code execution, URL context, …) add their results to the input.
 */
export function unboundedGeminiField(request: GenerateContentRequest): UnboundedField | null {
  if (request.cachedContent !== undefined) return refuse("cachedContent", "cached content is read by the provider and its size is not in the request");
  for (const [i, tool] of (request.tools ?? []).entries()) {
    const builtin = Object.keys(tool).find((k) => k !== "functionDeclarations");
    if (builtin) return refuse(`tools[${i}].${builtin}`, "a built-in tool adds its results to the input, their size is not in the request");
  }
  for (const [i, content] of request.contents.entries()) {
    for (const [j, part] of content.parts.entries()) {
      if (part.fileData) return refuse(`contents[${i}].parts[${j}].fileData`, "a file is read by the provider and its size is not in the request");
    }
  }
  return null;
}
