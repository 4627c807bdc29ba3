import { describe, expect, it } from "vitest";
import { geminiAdapter } from "../../../src/providers/gemini";
import { BLOCKED_STREAM, ERROR_STREAM, TEXT_STREAM, TOOLS_STREAM, TWO_CANDIDATES_STREAM } from "../../fixtures/gemini/streams";
import { CREATED, payload, runStream, testContext } from "./support";

const MODEL = "gemini-2.5-flash";
const ERROR_FRAME = 'data: {"error":{"message":"The provider failed mid-stream.","type":"api_error","param":null,"code":"upstream_error"}}\n\n';

function chunk(id: string, delta: Record<string, unknown>, finish: string | null = null, includeUsage = false, index = 0) {
  return {
    id,
    object: "chat.completion.chunk",
    created: CREATED,
    model: MODEL,
    choices: [{ index, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

function usageChunk(id: string, usage: Record<string, unknown>) {
  return { id, object: "chat.completion.chunk", created: CREATED, model: MODEL, choices: [], usage };
}

function run(text: string, includeUsage: boolean) {
  return runStream(geminiAdapter, testContext({ model: MODEL, stream: true, includeUsage }), [text]);
}

describe("gemini stream translation", () => {
  it("translates the reference CRLF text stream; the finish, usage and [DONE] come when upstream ends", () => {
    const { frames, translator } = run(TEXT_STREAM, true);
    const id = "chatcmpl-abc";
    expect(frames.map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", content: "Cert" }, null, true),
      chunk(id, { content: "ainly!" }, null, true),
      chunk(id, {}, "stop", true),
      usageChunk(id, {
        prompt_tokens: 399,
        completion_tokens: 191,
        total_tokens: 590,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      }),
      "[DONE]",
    ]);
    expect(translator.usage()).toStrictEqual({ promptTokens: 399, completionTokens: 191, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("translates thoughts, text and whole function calls with per-stream indexes and generated ids", () => {
    const { frames, translator } = run(TOOLS_STREAM, false);
    const id = "chatcmpl-resp_A1";
    const call = (index: number, name: string, args: string) => ({
      index,
      id: `call_resp_A1_${index}`,
      type: "function",
      function: { name, arguments: args },
    });
    expect(frames.map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", reasoning_content: "Planning the calls." }),
      chunk(id, { content: "Zürich ☕ und 東京" }),
      chunk(id, { tool_calls: [call(0, "get_weather", '{"city":"Zürich"}'), call(1, "get_weather", '{"city":"Tokyo"}')] }),
      chunk(id, { tool_calls: [call(2, "now", "{}")] }),
      chunk(id, {}, "tool_calls"),
      "[DONE]",
    ]);
    // Last usageMetadata wins: prompt 150 + tool-use 10; completion 30 + 40 thoughts.
    expect(translator.usage()).toStrictEqual({ promptTokens: 160, completionTokens: 70, cachedPromptTokens: 100, cacheWriteTokens: 0, reasoningTokens: 40 });
  });

  it("gives a streamed response the same tool ids as the buffered one", () => {
    const { frames } = run(TOOLS_STREAM, false);
    const streamed = frames
      .slice(0, -1)
      .flatMap((f) => (payload(f) as { choices: Array<{ delta: { tool_calls?: Array<{ id: string }> } }> }).choices[0]!.delta.tool_calls ?? [])
      .map((c) => c.id);
    const events = TOOLS_STREAM.split("\r\n\r\n")
      .filter(Boolean)
      .map((e) => JSON.parse(e.slice(6)));
    const parts = events.flatMap((e) => e.candidates[0].content.parts);
    const buffered = geminiAdapter.parseResponse(
      { candidates: [{ content: { parts }, finishReason: "STOP" }], responseId: "resp_A1" },
      testContext({ model: MODEL }),
    );
    expect(buffered.body.choices[0]!.message.tool_calls!.map((c) => c.id)).toStrictEqual(streamed);
  });

  it("ends with the terminal error frame on an error object mid-stream, echoing nothing", () => {
    const { frames, translator } = run(ERROR_STREAM, true);
    expect(frames.map((f) => (f === ERROR_FRAME ? "ERROR" : payload(f)))).toStrictEqual([
      chunk("chatcmpl-err1", { role: "assistant", content: "Hel" }, null, true),
      "ERROR",
    ]);
    expect(frames.join("")).not.toContain("overloaded");
    expect(translator.usage()).toStrictEqual({ promptTokens: 12, completionTokens: 0, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("turns a blocked prompt into an empty content_filter answer", () => {
    const { frames } = run(BLOCKED_STREAM, true);
    expect(frames.map(payload)).toStrictEqual([
      chunk("chatcmpl-blk", { role: "assistant", content: "" }, "content_filter", true),
      usageChunk("chatcmpl-blk", {
        prompt_tokens: 7,
        completion_tokens: 0,
        total_tokens: 7,
        prompt_tokens_details: { cached_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      }),
      "[DONE]",
    ]);
  });

  it("streams several candidates as separate choices, each with its own role and finish", () => {
    const { frames } = run(TWO_CANDIDATES_STREAM, false);
    const id = "chatcmpl-two";
    expect(frames.map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", content: "A" }, null, false, 0),
      chunk(id, { role: "assistant", content: "B" }, null, false, 1),
      chunk(id, { content: "a" }, null, false, 0),
      chunk(id, { content: "b" }, null, false, 1),
      chunk(id, {}, "stop", false, 0),
      chunk(id, {}, "length", false, 1),
      "[DONE]",
    ]);
  });

  it("reports a stream that ends without any finishReason as a failure", () => {
    const firstEvent = `${TEXT_STREAM.split("\r\n\r\n")[0]}\r\n\r\n`;
    const { frames } = run(firstEvent, true);
    expect(frames.at(-1)).toBe(ERROR_FRAME);
    expect(frames).not.toContain("data: [DONE]\n\n");
  });

  it("reports an empty stream and non-JSON data as failures", () => {
    expect(run("", false).frames).toStrictEqual([ERROR_FRAME]);
    expect(run("data: {not json\r\n\r\n", false).frames).toStrictEqual([ERROR_FRAME]);
  });
});
