import { describe, expect, it } from "vitest";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import { ERROR_STREAM, JSON_MODE_STREAM, TEXT_STREAM, TOOLS_STREAM } from "../../fixtures/anthropic/streams";
import { CREATED, payload, runStream, testContext } from "./support";

const MODEL = "claude-sonnet-4-6";
const ERROR_FRAME = 'data: {"error":{"message":"The provider failed mid-stream.","type":"api_error","param":null,"code":"upstream_error"}}\n\n';

/** The OpenAI chunk every translated event should become (usage: null only when include_usage). */
function chunk(id: string, delta: Record<string, unknown>, finish: string | null = null, includeUsage = false) {
  return {
    id,
    object: "chat.completion.chunk",
    created: CREATED,
    model: MODEL,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

function run(text: string, includeUsage: boolean) {
  return runStream(anthropicAdapter, testContext({ model: MODEL, stream: true, includeUsage }), [text]);
}

describe("anthropic stream translation", () => {
  it("translates the reference text stream (ping dropped, content_block_stop dropped)", () => {
    const { frames, translator } = run(TEXT_STREAM, false);
    const id = "chatcmpl-msg_01Abc";
    expect(frames.map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", content: "" }),
      chunk(id, { content: "Hello" }),
      chunk(id, { content: "!" }),
      chunk(id, {}, "stop"),
      "[DONE]",
    ]);
    expect(translator.usage()).toStrictEqual({
      promptTokens: 25,
      completionTokens: 15,
      cachedPromptTokens: 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
  });

  it("translates thinking, text and two tool calls with per-stream OpenAI indexes, then the usage chunk", () => {
    const { frames, translator } = run(TOOLS_STREAM, true);
    const id = "chatcmpl-msg_01Full";
    const c = (delta: Record<string, unknown>, finish: string | null = null) => chunk(id, delta, finish, true);
    const call = (index: number, callId: string) => ({
      tool_calls: [{ index, id: callId, type: "function", function: { name: "get_weather", arguments: "" } }],
    });
    const args = (index: number, fragment: string) => ({ tool_calls: [{ index, function: { arguments: fragment } }] });
    expect(frames.map(payload)).toStrictEqual([
      c({ role: "assistant", content: "" }),
      c({ reasoning_content: "Two cities, " }),
      c({ reasoning_content: "two calls." }),
      c({ content: "Checking Zürich " }),
      c({ content: "and 東京 ☕" }),
      c(call(0, "toolu_01T1x")),
      c(args(0, '{"city": "Zür')),
      c(args(0, 'ich"}')),
      c(call(1, "toolu_01T2y")),
      c(args(1, '{"city":"Tokyo"}')),
      c({}, "tool_calls"),
      {
        id,
        object: "chat.completion.chunk",
        created: CREATED,
        model: MODEL,
        choices: [],
        usage: {
          prompt_tokens: 1525,
          completion_tokens: 89,
          total_tokens: 1614,
          prompt_tokens_details: { cached_tokens: 1200 },
          completion_tokens_details: { reasoning_tokens: 12 },
        },
      },
      "[DONE]",
    ]);
    expect(translator.usage()).toStrictEqual({
      promptTokens: 1525,
      completionTokens: 89,
      cachedPromptTokens: 1200,
      cacheWriteTokens: 300,
      reasoningTokens: 12,
    });
  });

  it("turns a JSON-mode tool call into compact content and finish_reason stop", () => {
    const { frames } = run(JSON_MODE_STREAM, false);
    const id = "chatcmpl-msg_01Json";
    expect(frames.map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", content: "" }),
      chunk(id, { content: '{"summary":"ok"}' }),
      chunk(id, {}, "stop"),
      "[DONE]",
    ]);
  });

  it("ends with the terminal error frame on a mid-stream error, echoes nothing, and keeps the usage seen", () => {
    const { frames, translator } = run(ERROR_STREAM, true);
    const id = "chatcmpl-msg_01Err";
    expect(frames.slice(0, 2).map(payload)).toStrictEqual([
      chunk(id, { role: "assistant", content: "" }, null, true),
      chunk(id, { content: "Hel" }, null, true),
    ]);
    expect(frames.slice(2)).toStrictEqual([ERROR_FRAME]);
    expect(frames.join("")).not.toContain("Overloaded");
    expect(translator.usage()).toStrictEqual({
      promptTokens: 33,
      completionTokens: 1,
      cachedPromptTokens: 8,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    });
  });

  it("reports a stream that ends without message_stop as a failure, not as a stop", () => {
    const cut = TEXT_STREAM.slice(0, TEXT_STREAM.indexOf("event: message_delta"));
    const { frames } = run(cut, false);
    expect(frames.at(-1)).toBe(ERROR_FRAME);
    expect(frames).not.toContain("data: [DONE]\n\n");
  });

  it("fails on an event whose data is not JSON", () => {
    const { frames } = run('event: message_start\ndata: {"type":"message_start",\n\n', false);
    expect(frames).toStrictEqual([ERROR_FRAME]);
  });

  it("skips event types it does not know", () => {
    const extra = 'event: future_event\ndata: {"type":"future_event","x":1}\n\n';
    const withExtra = TEXT_STREAM.replace("event: content_block_stop", `${extra.trimEnd()}\n\nevent: content_block_stop`);
    expect(run(withExtra, false).frames).toStrictEqual(run(TEXT_STREAM, false).frames);
  });

  it("uses the gateway request id until message_start names the message", () => {
    const events = TEXT_STREAM.split("\n\n").slice(1).join("\n\n");
    const { frames } = run(events, false);
    expect((payload(frames[0]!) as { id: string }).id).toBe("chatcmpl-req_test");
  });
});
