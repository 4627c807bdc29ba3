/**
 * `POST /v1/embeddings` of the built-in mock provider (and of the test suite's OpenAI mock, which
 * reuses it), in OpenAI's exact format: `data[]` in input order, `encoding_format: "base64"` as
 * little-endian float32 (what the openai SDK asks for by default), `usage.prompt_tokens`.
 * Deterministic: the same text always gives the same unit vector. Any mock model embeds.
 */

interface EmbeddingsBody {
  model?: unknown;
  input?: unknown;
  encoding_format?: unknown;
  dimensions?: unknown;
}

const tokens = (text: string) => Math.max(1, Math.ceil(text.length / 4));

function error(message: string, param: string | null, status = 400): Response {
  return Response.json({ error: { message, type: "invalid_request_error", param, code: null } }, { status });
}

/** A unit vector from the text (xorshift seeded by FNV-1a): stable across runs, different per text. */
export function mockVector(text: string, dimensions: number): number[] {
  let seed = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) seed = Math.imul(seed ^ text.charCodeAt(i), 0x01000193) >>> 0;
  const values: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    seed >>>= 0;
    values.push(seed / 0xffffffff - 0.5);
  }
  const norm = Math.hypot(...values) || 1;
  return values.map((v) => Math.fround(v / norm));
}

function base64(values: number[]): string {
  const bytes = new Uint8Array(new Float32Array(values).buffer);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

function inputs(input: unknown): Array<string | number[]> | null {
  if (typeof input === "string" && input !== "") return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((v) => typeof v === "number")) return [input as number[]];
  const ok = input.every((v) => (typeof v === "string" && v !== "") || (Array.isArray(v) && v.length > 0 && v.every((n) => typeof n === "number")));
  return ok ? (input as Array<string | number[]>) : null;
}

export function mockEmbeddings(body: EmbeddingsBody): Response {
  if (typeof body.model !== "string") return error("you must provide a model parameter", null);
  const list = inputs(body.input);
  if (!list) return error("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", null);
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") return error(`Invalid value for 'encoding_format': '${String(format)}'.`, "encoding_format");
  const dimensions = body.dimensions ?? (body.model.includes("large") ? 3072 : 1536);
  if (typeof dimensions !== "number" || !Number.isInteger(dimensions) || dimensions < 1 || dimensions > 3072) {
    return error("Invalid value for 'dimensions'.", "dimensions");
  }
  const promptTokens = list.reduce<number>((sum, item) => sum + (typeof item === "string" ? tokens(item) : item.length), 0);
  return Response.json({
    object: "list",
    data: list.map((item, index) => {
      const vector = mockVector(typeof item === "string" ? item : item.join(","), dimensions);
      return { object: "embedding", index, embedding: format === "base64" ? base64(vector) : vector };
    }),
    model: body.model,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  });
}
