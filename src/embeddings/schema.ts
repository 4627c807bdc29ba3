import * as z from "zod";

/**
 * `POST /v1/embeddings` as the gateway accepts it (OpenAI's `CreateEmbeddingRequest`): text, a list
 * of texts, or OpenAI token arrays. Unknown fields pass through to OpenAI-compatible upstreams.
 */

/** OpenAI's own limit on inputs per request. */
export const MAX_INPUTS = 2048;

const tokens = z.array(z.number().int().nonnegative()).min(1);

export const embeddingsRequestSchema = z.looseObject({
  model: z.string().min(1).max(256),
  input: z.union([
    z.string().min(1, "must not be empty"),
    z.array(z.string().min(1, "must not be empty")).min(1).max(MAX_INPUTS),
    tokens,
    z.array(tokens).min(1).max(MAX_INPUTS),
  ]),
  encoding_format: z.enum(["float", "base64"]).optional(),
  dimensions: z.number().int().min(1).optional(),
  user: z.string().optional(),
});

export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

/** The inputs as a list: texts, or token arrays. */
export function inputList(input: EmbeddingsRequest["input"]): Array<string | number[]> {
  if (typeof input === "string") return [input];
  if (input.length > 0 && typeof input[0] === "number") return [input as number[]];
  return input as Array<string | number[]>;
}

const encoder = new TextEncoder();

/**
 * Upper bound of the input tokens (the chat estimate's rule: UTF-8 bytes / 3 rarely under-counts);
 * token arrays count exactly.
 */
export function estimateEmbeddingTokens(input: EmbeddingsRequest["input"]): number {
  let total = 0;
  for (const item of inputList(input)) total += typeof item === "string" ? Math.ceil(encoder.encode(item).byteLength / 3) : item.length;
  return Math.max(1, total);
}
