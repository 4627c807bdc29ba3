import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { geminiEmbedRequest, parseGeminiEmbeddings } from "../../../src/embeddings/gemini";
import { openAiEmbeddingsUsage } from "../../../src/embeddings/openai";
import { embeddingsRequestSchema, estimateEmbeddingTokens } from "../../../src/embeddings/schema";
import { float32Base64 } from "../../../src/embeddings/vectors";
import { testContext } from "../providers/support";

/** OpenAI embeddings ⇄ Gemini embedContent / batchEmbedContents, and the input estimate. */

const parse = (body: Record<string, unknown>) => embeddingsRequestSchema.parse({ model: "gemini-embedding-001", ...body });
const ctx = testContext({ model: "gemini-embedding-001", baseUrl: "https://gemini.test", apiKey: "AIzaKey" });

function decode(base64: string): number[] {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return Array.from(new Float32Array(bytes.buffer));
}

describe("embeddings", () => {
  it("one text → embedContent, a list → batchEmbedContents, dimensions → outputDimensionality", () => {
    const one = geminiEmbedRequest(parse({ input: "hello" }), ctx);
    expect(one.url).toBe("https://gemini.test/v1beta/models/gemini-embedding-001:embedContent");
    expect(one.headers["x-goog-api-key"]).toBe("AIzaKey");
    expect(JSON.parse(one.body)).toStrictEqual({ model: "models/gemini-embedding-001", content: { parts: [{ text: "hello" }] } });
    const batch = geminiEmbedRequest(parse({ input: ["a", "b"], dimensions: 768 }), ctx);
    expect(batch.url).toBe("https://gemini.test/v1beta/models/gemini-embedding-001:batchEmbedContents");
    expect(JSON.parse(batch.body)).toStrictEqual({
      requests: ["a", "b"].map((text) => ({ model: "models/gemini-embedding-001", content: { parts: [{ text }] }, outputDimensionality: 768 })),
    });
  });

  it("refuses token arrays and over-long batches for Gemini with a 400 naming input", () => {
    for (const input of [[1, 2, 3], Array.from({ length: 101 }, () => "x")]) {
      const error = (() => {
        try {
          geminiEmbedRequest(parse({ input }), ctx);
        } catch (err) {
          return err;
        }
      })() as GatewayError;
      expect(error).toBeInstanceOf(GatewayError);
      expect([error.status, error.param]).toStrictEqual([400, "input"]);
    }
  });

  it("Gemini's answer → the OpenAI list, floats or base64 float32; the estimate is metered when Gemini reports no count", () => {
    const request = parse({ input: ["a", "b"] });
    const answer = { embeddings: [{ values: [0.5, -0.25] }, { values: [1, 0] }] };
    const { body, usage } = parseGeminiEmbeddings(answer, request, 7);
    expect(body).toStrictEqual({
      object: "list",
      data: [
        { object: "embedding", index: 0, embedding: [0.5, -0.25] },
        { object: "embedding", index: 1, embedding: [1, 0] },
      ],
      model: "gemini-embedding-001",
      usage: { prompt_tokens: 7, total_tokens: 7 },
    });
    expect(usage).toMatchObject({ promptTokens: 7, completionTokens: 0 });
    const b64 = parseGeminiEmbeddings(
      { embedding: { values: [0.5, -0.25] }, usageMetadata: { promptTokenCount: 3 } },
      parse({ input: "a", encoding_format: "base64" }),
      7,
    );
    const data = (b64.body as { data: Array<{ embedding: string }> }).data;
    expect(decode(data[0]!.embedding)).toStrictEqual([0.5, -0.25]);
    expect(b64.usage.promptTokens).toBe(3);
    expect(() => parseGeminiEmbeddings({ embeddings: [{ values: [1] }] }, request, 1)).toThrow(GatewayError);
  });

  it("reads OpenAI's usage, falls back to the estimate, rejects what is not an embeddings list", () => {
    expect(openAiEmbeddingsUsage({ object: "list", data: [{ embedding: [1] }], usage: { prompt_tokens: 5, total_tokens: 5 } }, 9).promptTokens).toBe(5);
    expect(openAiEmbeddingsUsage({ object: "list", data: [{ embedding: "AAAA" }] }, 9).promptTokens).toBe(9);
    expect(() => openAiEmbeddingsUsage({ choices: [] }, 9)).toThrow(GatewayError);
  });

  it("estimates text at UTF-8 bytes / 3 and token arrays exactly; validates input", () => {
    expect(estimateEmbeddingTokens("abcdef")).toBe(2);
    expect(estimateEmbeddingTokens(["東京", "abc"])).toBe(2 + 1);
    expect(estimateEmbeddingTokens([[1, 2, 3], [4]])).toBe(4);
    expect(embeddingsRequestSchema.safeParse({ model: "m", input: "" }).success).toBe(false);
    expect(embeddingsRequestSchema.safeParse({ model: "m", input: [] }).success).toBe(false);
    expect(embeddingsRequestSchema.safeParse({ model: "m", input: "x", encoding_format: "int8" }).success).toBe(false);
    expect(float32Base64([])).toBe("");
    expect(decode(float32Base64(Array.from({ length: 50_000 }, (_, i) => i)))).toHaveLength(50_000);
  });
});
