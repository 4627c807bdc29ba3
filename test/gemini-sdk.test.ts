import { ApiError, type Content, Type } from "@google/genai";
import { describe, expect, it } from "vitest";
import { createKey } from "./support/gateway";
import { GEMINI_ENV_KEY, geminiFetch, geminiRequests, geminiSdk, upstreamRequests } from "./support/gemini";

/**
 * The official @google/genai (3.3.0) against the Gemini surface, with only the base URL and the key
 * changed: Gemini models forwarded natively to the mock Gemini (bytes, thought signatures and
 * frames untouched), GPT and mock models translated through the chat adapters. The SDK calls
 * /v1/models/{model}:{method} by default; /v1beta is what Gemini CLI and curl use. Markers are unique
 * per test so the recorded upstream requests of parallel tests are told apart.
 */

const GEMINI = "gemini-2.5-flash";
const GPT = "gpt-4o-mini";
const weather = {
  name: "get_weather",
  description: "Current weather",
  parameters: { type: Type.OBJECT, properties: { input: { type: Type.STRING } }, required: ["input"] },
};

describe("@google/genai with a Gemini model (native)", () => {
  it("generateContent: the upstream gets the SDK's bytes with the pooled key only; the answer is Gemini's", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ spend_cap_usd: 5 });
    const sent: Array<{ url: string; body: string }> = [];
    const ai = geminiSdk(key, { sent });
    const response = await ai.models.generateContent({
      model: GEMINI,
      contents: "native-generate-marker hello there",
      config: { systemInstruction: "Answer tersely.", maxOutputTokens: 256, temperature: 0.2 },
    });
    expect(response.text).toBe("native-generate-marker hello there");
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.candidatesTokenCount).toBeGreaterThan(0);
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(Number(response.sdkHttpResponse?.headers?.["x-keyforge-cost-usd"])).toBeGreaterThan(0);
    expect(sent[0]!.url).toBe(`http://gateway.test/v1/models/${GEMINI}:generateContent`);

    const [upstream] = await geminiRequests("native-generate-marker");
    expect(upstream!.path).toBe(`/v1beta/models/${GEMINI}:generateContent`);
    expect(upstream!.key).toBe(GEMINI_ENV_KEY);
    expect(upstream!.headers.query).toBe("");
    expect(upstream!.raw).toBe(sent[0]!.body);
  });

  it("generateContentStream: frame by frame, usage on the last chunk; ?key= works and is not forwarded", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const ai = geminiSdk(key);
    const stream = await ai.models.generateContentStream({ model: GEMINI, contents: "native-stream-marker one two three" });
    let text = "";
    let chunks = 0;
    let last: { candidatesTokenCount?: number } | undefined;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.text ?? "";
      last = chunk.usageMetadata ?? last;
    }
    expect(text).toBe("native-stream-marker one two three");
    expect(chunks).toBeGreaterThan(2);
    expect(last?.candidatesTokenCount).toBeGreaterThan(0);

    // curl's form: the key in the query, /v1beta, alt=sse. The wire is Gemini's own framing.
    const res = await geminiFetch(`/v1beta/models/${GEMINI}:streamGenerateContent?alt=sse&key=${key}`, {
      contents: [{ role: "user", parts: [{ text: "native-stream-marker raw" }] }],
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const frames = (await res.text()).split("\r\n\r\n").filter((f) => f.startsWith("data: "));
    expect(frames.length).toBeGreaterThan(1);
    expect(JSON.parse(frames.at(-1)!.slice(6)).candidates[0].finishReason).toBe("STOP");
    const upstream = await geminiRequests("native-stream-marker raw");
    expect(upstream.map((r) => [r.path, r.key, r.headers.query])).toEqual([[`/v1beta/models/${GEMINI}:streamGenerateContent`, GEMINI_ENV_KEY, "?alt=sse"]]);
  });

  it("function calling on Gemini 3: the thoughtSignature comes back to the client and goes upstream byte for byte", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const ai = geminiSdk(key);
    const model = "gemini-3-pro-preview";
    const user: Content = { role: "user", parts: [{ text: "native-tool-marker Paris" }] };
    const config = { tools: [{ functionDeclarations: [weather] }] };
    const first = await ai.models.generateContent({ model, contents: [user], config });
    expect(first.functionCalls).toEqual([{ name: "get_weather", args: { input: "native-tool-marker Paris" } }]);
    const modelTurn = first.candidates![0]!.content!;
    const signature = modelTurn.parts![0]!.thoughtSignature;
    expect(signature).toMatch(/^c2lnbmF0dXJl/);

    const answer: Content = { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp_c: 18 } } }] };
    const second = await ai.models.generateContent({ model, contents: [user, modelTurn, answer], config });
    expect(second.text).toBe('Tool result: {"temp_c":18}');
    const upstream = await geminiRequests("native-tool-marker");
    expect(upstream).toHaveLength(2);
    expect(upstream[1]!.raw).toContain(`"thoughtSignature":"${signature}"`);
  });

  it("JSON schema output, countTokens (not charged) and embedContent", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const ai = geminiSdk(key);
    const json = await ai.models.generateContent({
      model: GEMINI,
      contents: "native-json-marker",
      config: {
        responseMimeType: "application/json",
        responseSchema: { type: Type.OBJECT, properties: { summary: { type: Type.STRING }, rating: { type: Type.INTEGER } } },
      },
    });
    expect(JSON.parse(json.text!)).toEqual({ summary: "mock", rating: 0 });

    const counted = await ai.models.countTokens({ model: GEMINI, contents: "native-count-marker twelve chars" });
    expect(counted.totalTokens).toBe(Math.ceil("native-count-marker twelve chars".length / 4));
    expect(counted.sdkHttpResponse?.headers?.["x-keyforge-token-count"]).toBeUndefined();

    const one = await ai.models.embedContent({ model: "gemini-embedding-001", contents: "native-embed-marker", config: { outputDimensionality: 8 } });
    expect(one.embeddings).toHaveLength(1);
    expect(one.embeddings![0]!.values).toHaveLength(8);
    const many = await ai.models.embedContent({ model: "gemini-embedding-001", contents: ["native-embed-marker a", "native-embed-marker b"] });
    expect(many.embeddings).toHaveLength(2);
  });
});

describe("@google/genai with GPT and mock models (translated)", () => {
  it("generateContent and generateContentStream with a GPT model", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ spend_cap_usd: 5 });
    const ai = geminiSdk(key);
    const response = await ai.models.generateContent({
      model: GPT,
      contents: "translated-generate-marker hi",
      config: { systemInstruction: "Be brief.", maxOutputTokens: 64 },
    });
    expect(response.text).toBe("translated-generate-marker hi");
    expect(response.candidates?.[0]?.finishReason).toBe("STOP");
    expect(response.usageMetadata?.promptTokenCount).toBeGreaterThan(0);
    expect(response.usageMetadata?.totalTokenCount).toBe(response.usageMetadata!.promptTokenCount! + response.usageMetadata!.candidatesTokenCount!);
    const [upstream] = await upstreamRequests("translated-generate-marker");
    expect(upstream).toMatchObject({ provider: "openai", path: "/v1/chat/completions" });

    let text = "";
    let usage: { candidatesTokenCount?: number } | undefined;
    for await (const chunk of await ai.models.generateContentStream({ model: GPT, contents: "translated-stream-marker a b c" })) {
      text += chunk.text ?? "";
      usage = chunk.usageMetadata ?? usage;
    }
    expect(text).toBe("translated-stream-marker a b c");
    expect(usage?.candidatesTokenCount).toBeGreaterThan(0);
  });

  it("function calling over two turns, streamed and buffered", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const ai = geminiSdk(key);
    const user: Content = { role: "user", parts: [{ text: "translated-tool-marker Oslo" }] };
    const config = { tools: [{ functionDeclarations: [weather] }] };
    const first = await ai.models.generateContent({ model: GPT, contents: [user], config });
    expect(first.functionCalls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { input: "translated-tool-marker Oslo" }]]);
    const calls: unknown[] = [];
    for await (const chunk of await ai.models.generateContentStream({ model: "mock/echo", contents: [user], config }))
      calls.push(...(chunk.functionCalls ?? []));
    expect(calls).toMatchObject([{ name: "get_weather", args: { input: "translated-tool-marker Oslo" } }]);

    const answer: Content = { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp_c: 3 } } }] };
    const second = await ai.models.generateContent({ model: GPT, contents: [user, first.candidates![0]!.content!, answer], config });
    expect(second.text).toBe('Tool result: {"temp_c":3}');
  });

  it("JSON schema output, countTokens (an estimate) and embedContent through OpenAI", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const ai = geminiSdk(key);
    const json = await ai.models.generateContent({
      model: GPT,
      contents: "translated-json-marker",
      config: { responseMimeType: "application/json", responseSchema: { type: Type.OBJECT, properties: { city: { type: Type.STRING } } } },
    });
    expect(Object.keys(JSON.parse(json.text!) as object)).toEqual(["city"]);
    const counted = await ai.models.countTokens({ model: GPT, contents: "translated-count-marker" });
    expect(counted.totalTokens).toBeGreaterThan(0);
    expect(counted.sdkHttpResponse?.headers?.["x-keyforge-token-count"]).toBe("estimate");
    const embedded = await ai.models.embedContent({ model: "text-embedding-3-small", contents: ["translated-embed-marker a", "translated-embed-marker b"] });
    expect(embedded.embeddings).toHaveLength(2);
    expect(embedded.embeddings![0]!.values!.length).toBeGreaterThan(0);
  });
});

describe("Gemini-shaped errors", () => {
  it("401 UNAUTHENTICATED, 404 NOT_FOUND, 400 INVALID_ARGUMENT; the SDK raises ApiError with the status", { timeout: 20_000 }, async () => {
    const missing = await geminiFetch(`/v1beta/models/${GEMINI}:generateContent`, { contents: [{ parts: [{ text: "x" }] }] });
    expect(missing.status).toBe(401);
    expect(await missing.json()).toMatchObject({ error: { code: 401, status: "UNAUTHENTICATED", message: expect.stringContaining("x-goog-api-key") } });

    const { key } = await createKey();
    const bad = await geminiFetch(`/v1beta/models/${GEMINI}:generateContent`, { contents: [] }, { "x-goog-api-key": key });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT", message: expect.stringContaining("contents") } });
    const unknown = await geminiFetch(`/v1beta/models/${GEMINI}:predictLongRunning`, {}, { "x-goog-api-key": key });
    expect(await unknown.json()).toMatchObject({ error: { code: 404, status: "NOT_FOUND" } });

    const error = await geminiSdk("vk_not_a_real_key")
      .models.generateContent({ model: GEMINI, contents: "x" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect((error as ApiError).status).toBe(401);

    // A failure mid-stream ends it with Gemini's error object (our words, not the upstream's): the SDK raises it.
    const chunks: string[] = [];
    const midstream = await (async () => {
      for await (const chunk of await geminiSdk(key).models.generateContentStream({
        model: GEMINI,
        contents: "gm-midstream-marker MOCK_MIDSTREAM_ERROR now",
      })) {
        chunks.push(chunk.text ?? "");
      }
    })().catch((e: unknown) => e);
    expect(chunks.length).toBeGreaterThan(0);
    expect(midstream).toBeInstanceOf(ApiError);
    expect((midstream as ApiError).status).toBe(502);
    expect((midstream as ApiError).message).toContain("The provider failed mid-stream.");
    expect((midstream as ApiError).message).not.toContain("overloaded");
  });
});
