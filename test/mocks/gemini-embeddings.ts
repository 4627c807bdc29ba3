/**
 * Gemini Developer API embeddings, exact format (ai.google.dev/api/embeddings):
 *   POST /v1beta/models/{model}:embedContent        {content:{parts:[{text}]}, model?, taskType?, title?, outputDimensionality?}
 *     → {"embedding": {"values": [...]}}
 *   POST /v1beta/models/{model}:batchEmbedContents  {requests:[{model:"models/{model}", content, outputDimensionality?}]}
 *     → {"embeddings": [{"values": [...]}, …]}
 * No token counts in the answer (the Developer API reports none for embeddings). Each batch request
 * must name the path's model; at most 100 requests. Vectors: deterministic (mockVector), 3072
 * dimensions by default like gemini-embedding-001.
 */
import { mockVector } from "../../src/providers/mock/mock-embeddings";

type Json = Record<string, unknown>;

function invalid(message: string): Response {
  return Response.json({ error: { code: 400, message, status: "INVALID_ARGUMENT" } }, { status: 400 });
}

function embed(request: Json, where: string): { values: number[] } | string {
  const parts = (request.content as { parts?: Array<{ text?: unknown }> } | undefined)?.parts;
  if (!Array.isArray(parts) || parts.length === 0) return `* ${where}.content.parts: contents.parts must not be empty.`;
  const text = parts.map((p) => (typeof p.text === "string" ? p.text : "")).join("");
  const dims = request.outputDimensionality ?? 3072;
  if (typeof dims !== "number" || !Number.isInteger(dims) || dims < 1 || dims > 3072) return `* ${where}.output_dimensionality: invalid value.`;
  return { values: mockVector(text, dims) };
}

export function geminiEmbeddings(body: Json | null, model: string, method: string): Response {
  if (body === null || typeof body !== "object") return invalid("Invalid JSON payload received.");
  if (method === "embedContent") {
    const one = embed(body, "EmbedContentRequest");
    return typeof one === "string" ? invalid(one) : Response.json({ embedding: one });
  }
  const requests = body.requests;
  if (!Array.isArray(requests) || requests.length === 0) return invalid("* BatchEmbedContentsRequest.requests: requests must not be empty.");
  if (requests.length > 100) return invalid("* BatchEmbedContentsRequest.requests: at most 100 requests can be in one batch");
  const embeddings: Array<{ values: number[] }> = [];
  for (const [i, request] of (requests as Json[]).entries()) {
    if (request.model !== `models/${model}`) {
      return invalid(`* BatchEmbedContentsRequest.requests[${i}].model: model must be "models/${model}" (the batch's model).`);
    }
    const one = embed(request, `BatchEmbedContentsRequest.requests[${i}]`);
    if (typeof one === "string") return invalid(one);
    embeddings.push(one);
  }
  return Response.json({ embeddings });
}
