import { describe, expect, it } from "vitest";
import { ChatToGeminiStream, chatToGemini, usageMetadata } from "../../src/gemini-api/from-chat";
import { generateContentSchema } from "../../src/gemini-api/schema";
import { geminiToChat, jsonSchemaOf } from "../../src/gemini-api/to-chat";
import type { AdapterContext, SseEvent, StreamTranslator, Usage } from "../../src/providers/types";

/** Gemini ⇄ Chat translation for non-Gemini models on the Gemini surface: the cases the SDK tests do not reach. */

const request = (body: unknown) => generateContentSchema.parse(body);
const ctx: AdapterContext = {
  model: "gpt-4o-mini",
  baseUrl: "",
  apiKey: "",
  stream: true,
  includeUsage: true,
  defaultMaxTokens: null,
  requestId: "req_abc",
  created: 0,
};

describe("Gemini request → chat", () => {
  it("turns, tool calls answered by name in order (or by id), config and schemas", () => {
    const chat = geminiToChat(
      request({
        systemInstruction: { parts: [{ text: "Be brief." }] },
        contents: [
          { role: "user", parts: [{ text: "weather?" }, { inlineData: { mimeType: "image/png", data: "AAAA" } }] },
          {
            role: "model",
            parts: [
              { text: "thinking", thought: true },
              { functionCall: { name: "get", args: { city: "A" } }, thoughtSignature: "sig" },
              { functionCall: { name: "get", args: { city: "B" } } },
            ],
          },
          {
            role: "user",
            parts: [{ functionResponse: { name: "get", response: { t: 1 } } }, { functionResponse: { name: "get", response: { t: 2 } } }],
          },
        ],
        tools: [{ functionDeclarations: [{ name: "get", parameters: { type: "OBJECT", properties: { city: { type: "STRING", nullable: true } } } }] }],
        toolConfig: { functionCallingConfig: { mode: "ANY", allowedFunctionNames: ["get"] } },
        generationConfig: { maxOutputTokens: 50, candidateCount: 2, stopSequences: ["END"], responseMimeType: "application/json" },
      }),
      "gpt-4o-mini",
      "openai",
    );
    expect(chat.messages).toEqual([
      { role: "system", content: "Be brief." },
      {
        role: "user",
        content: [
          { type: "text", text: "weather?" },
          { type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } },
        ],
      },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call_0", type: "function", function: { name: "get", arguments: '{"city":"A"}' } },
          { id: "call_1", type: "function", function: { name: "get", arguments: '{"city":"B"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call_0", content: '{"t":1}' },
      { role: "tool", tool_call_id: "call_1", content: '{"t":2}' },
    ]);
    expect(chat).toMatchObject({ max_completion_tokens: 50, n: 2, stop: ["END"], response_format: { type: "json_object" } });
    expect(chat.tool_choice).toEqual({ type: "function", function: { name: "get" } });
    expect(chat.tools![0]!.function.parameters).toEqual({ type: "object", properties: { city: { type: ["string", "null"] } } });
  });

  it("refuses what chat cannot carry, naming the field", () => {
    const base = { contents: [{ role: "user", parts: [{ text: "x" }] }] };
    expect(() => geminiToChat(request({ ...base, tools: [{ googleSearch: {} }] }), "m", "openai")).toThrow(
      expect.objectContaining({ param: "tools[0].googleSearch" }),
    );
    expect(() => geminiToChat(request({ contents: [{ parts: [{ inlineData: { mimeType: "audio/mp3", data: "AA" } }] }] }), "m", "openai")).toThrow(
      expect.objectContaining({ param: "contents[0].parts[0].inlineData" }),
    );
    expect(() => geminiToChat(request({ contents: [{ parts: [{ functionResponse: { name: "f", response: {} } }] }] }), "m", "openai")).toThrow(
      expect.objectContaining({ param: "contents[0].parts[0]" }),
    );
    expect(() => geminiToChat(request({ ...base, generationConfig: { stopSequences: ["a", "b", "c", "d", "e"] } }), "m", "openai")).toThrow(
      expect.objectContaining({ param: "generationConfig.stopSequences" }),
    );
  });

  it("jsonSchemaOf lower-cases OpenAPI types and drops Gemini-only keywords", () => {
    expect(jsonSchemaOf({ type: "ARRAY", items: { type: "INTEGER" }, propertyOrdering: ["a"] })).toEqual({ type: "array", items: { type: "integer" } });
  });
});

describe("chat answer → Gemini", () => {
  const usage: Usage = { promptTokens: 10, completionTokens: 7, cachedPromptTokens: 4, cacheWriteTokens: 0, reasoningTokens: 3 };

  it("usageMetadata counts thoughts outside candidates, cached inside the prompt", () => {
    expect(usageMetadata(usage)).toEqual({
      promptTokenCount: 10,
      candidatesTokenCount: 4,
      thoughtsTokenCount: 3,
      cachedContentTokenCount: 4,
      totalTokenCount: 17,
    });
  });

  it("a buffered completion: text and tool calls as parts, finish reasons mapped", () => {
    const body = chatToGemini(
      {
        id: "x",
        object: "chat.completion",
        created: 0,
        model: "m",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              refusal: null,
              tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":1}' } }],
            },
            logprobs: null,
            finish_reason: "tool_calls",
          },
        ],
      },
      usage,
      "gpt-4o-mini",
      ctx,
    );
    expect(body).toMatchObject({
      candidates: [{ content: { role: "model", parts: [{ functionCall: { id: "c1", name: "f", args: { a: 1 } } }] }, finishReason: "STOP", index: 0 }],
      modelVersion: "gpt-4o-mini",
      responseId: "abc",
    });
  });

  it("a stream: text chunk by chunk, tool call arguments joined and sent whole on the last chunk with usage", () => {
    const frames = [
      { choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: "c1", function: { name: "f", arguments: '{"a"' } }] }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ":1}" } }] }, finish_reason: "tool_calls" }] },
    ].map((f) => `data: ${JSON.stringify(f)}\n\n`);
    const inner: StreamTranslator = { push: (e: SseEvent) => [e.data], end: () => ["data: [DONE]\n\n"], usage: () => usage };
    const stream = new ChatToGeminiStream(inner, "gpt-4o-mini", ctx);
    const out = [...frames.flatMap((f) => stream.push({ data: f })), ...stream.end()].map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ candidates: [{ content: { parts: [{ text: "Hi" }] } }] });
    expect(out[1]).toMatchObject({
      candidates: [{ content: { parts: [{ functionCall: { id: "c1", name: "f", args: { a: 1 } } }] }, finishReason: "STOP" }],
      usageMetadata: { candidatesTokenCount: 4, thoughtsTokenCount: 3 },
    });
  });
});
