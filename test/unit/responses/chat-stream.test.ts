import { describe, expect, it } from "vitest";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import { openAiAdapter } from "../../../src/providers/openai/adapter";
import { SseTranslation } from "../../../src/proxy/sse-translation";
import { ChatToResponsesStream } from "../../../src/responses/chat-stream";
import { chatToResponse } from "../../../src/responses/from-chat";
import { responsesRequestSchema } from "../../../src/responses/schema";
import { ERROR_STREAM, TOOLS_STREAM } from "../../fixtures/anthropic/streams";
import { testContext } from "../providers/support";

/**
 * Chat → Responses: the buffered object (reference agent-apis §1.6, §3.3) and the exact event
 * sequence of a stream (§1.8, §3.4), driven through the real chat adapters' translators.
 */

const frame = (body: Record<string, unknown> = {}) => ({
  id: "resp_test",
  createdAt: 1_787_659_560,
  request: responsesRequestSchema.parse({ model: "claude-sonnet-4-6", input: "Hi", ...body }),
});

interface Event {
  type: string;
  sequence_number: number;
  [k: string]: unknown;
}

/** Parses `event: X\ndata: {...}\n\n` frames, checking that the event name repeats the payload's type. */
function events(frames: string[]): Event[] {
  const text = frames.join("");
  const blocks = text.split("\n\n").filter((b) => b !== "");
  return blocks.map((block) => {
    const match = /^event: (\S+)\ndata: (.*)$/s.exec(block);
    if (!match) throw new Error(`not a named SSE event: ${JSON.stringify(block)}`);
    const payload = JSON.parse(match[2]!) as Event;
    expect(payload.type).toBe(match[1]);
    return payload;
  });
}

/** Runs upstream SSE text through adapter translator → Responses translator, as the proxy core does. */
function run(adapter: typeof openAiAdapter, upstream: string, body: Record<string, unknown> = {}) {
  const inner = adapter.createStreamTranslator(testContext({ model: "m", stream: true, includeUsage: true }));
  const translator = new ChatToResponsesStream(inner, frame(body));
  const translation = new SseTranslation(translator);
  const frames = [...translation.feed(new TextEncoder().encode(upstream)), ...translation.end()];
  return { list: events(frames), translator, failed: translation.failed };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], usage: null })}\n\n`;
const usageChunk = `data: ${JSON.stringify({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [],
  usage: {
    prompt_tokens: 37,
    completion_tokens: 11,
    total_tokens: 48,
    prompt_tokens_details: { cached_tokens: 5 },
    completion_tokens_details: { reasoning_tokens: 3 },
  },
})}\n\n`;

describe("Chat stream → Responses events", () => {
  it("a text answer is exactly the reference sequence, numbered from 0", () => {
    const upstream =
      chunk({ role: "assistant", content: "" }) +
      chunk({ content: "Hi" }) +
      chunk({ content: " there!" }) +
      chunk({}, "stop") +
      usageChunk +
      "data: [DONE]\n\n";
    const { list, failed } = run(openAiAdapter, upstream);
    expect(failed).toBe(false);
    expect(list.map((e) => e.type)).toStrictEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(list.map((e) => e.sequence_number)).toStrictEqual(list.map((_, i) => i));
    const created = list[0] as unknown as { response: Record<string, unknown> };
    expect(created.response).toMatchObject({
      id: "resp_test",
      object: "response",
      status: "in_progress",
      output: [],
      usage: null,
      store: false,
      model: "claude-sonnet-4-6",
    });
    const added = list[2] as unknown as { output_index: number; item: { id: string; type: string; status: string; content: unknown[] } };
    expect(added).toMatchObject({ output_index: 0, item: { type: "message", status: "in_progress", role: "assistant", content: [] } });
    const id = added.item.id;
    expect(id).toMatch(/^msg_/);
    expect(list[3]).toMatchObject({ item_id: id, output_index: 0, content_index: 0, part: { type: "output_text", text: "", annotations: [], logprobs: [] } });
    expect(list[4]).toMatchObject({ item_id: id, output_index: 0, content_index: 0, delta: "Hi", logprobs: [] });
    expect(list[6]).toMatchObject({ item_id: id, text: "Hi there!", logprobs: [] });
    expect(list[7]).toMatchObject({ item_id: id, part: { type: "output_text", text: "Hi there!" } });
    const done = {
      id,
      type: "message",
      status: "completed",
      role: "assistant",
      content: [{ type: "output_text", text: "Hi there!", annotations: [], logprobs: [] }],
    };
    expect(list[8]).toMatchObject({ output_index: 0, item: done });
    const completed = list[9] as unknown as { response: Record<string, unknown> };
    expect(completed.response).toMatchObject({ status: "completed", output: [done], error: null, incomplete_details: null });
    expect(completed.response.completed_at).toEqual(expect.any(Number));
    expect(completed.response.usage).toStrictEqual({
      input_tokens: 37,
      input_tokens_details: { cached_tokens: 5, cache_write_tokens: 0 },
      output_tokens: 11,
      output_tokens_details: { reasoning_tokens: 3 },
      total_tokens: 48,
    });
  });

  it("reasoning, text and two tool calls from Anthropic: items in order, no interleaving, cache usage kept", () => {
    const { list, translator } = run(anthropicAdapter, TOOLS_STREAM, { tools: [{ type: "function", name: "get_weather", parameters: { type: "object" } }] });
    const types = list.map((e) => e.type);
    expect(types).toStrictEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.reasoning_summary_part.added",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.delta",
      "response.reasoning_summary_text.done",
      "response.reasoning_summary_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(list.map((e) => e.sequence_number)).toStrictEqual(list.map((_, i) => i));
    const done = list.filter((e) => e.type === "response.output_item.done").map((e) => e as unknown as { output_index: number; item: Record<string, unknown> });
    expect(done.map((e) => e.output_index)).toStrictEqual([0, 1, 2, 3]);
    expect(done[0]!.item).toMatchObject({ type: "reasoning", summary: [{ type: "summary_text", text: "Two cities, two calls." }] });
    expect(done[1]!.item).toMatchObject({ type: "message", content: [{ type: "output_text", text: "Checking Zürich and 東京 ☕" }] });
    expect(done[2]!.item).toMatchObject({
      type: "function_call",
      call_id: "toolu_01T1x",
      name: "get_weather",
      arguments: '{"city": "Zürich"}',
      status: "completed",
    });
    expect(done[3]!.item).toMatchObject({ type: "function_call", call_id: "toolu_01T2y", arguments: '{"city":"Tokyo"}' });
    expect(String(done[2]!.item.id)).toMatch(/^fc_/);
    const argsDone = list.find((e) => e.type === "response.function_call_arguments.done")!;
    expect(argsDone).toMatchObject({ name: "get_weather", arguments: '{"city": "Zürich"}', output_index: 2 });
    const completed = list.at(-1) as unknown as { response: { output: unknown[]; usage: Record<string, unknown> } };
    expect(completed.response.output).toStrictEqual(done.map((e) => e.item));
    // Metering reads the provider's own usage: cache reads and writes are not lost in translation.
    expect(translator.usage()).toMatchObject({ cachedPromptTokens: 1200, cacheWriteTokens: 300 });
    expect(completed.response.usage).toMatchObject({ input_tokens_details: { cached_tokens: 1200, cache_write_tokens: 300 } });
  });

  it("tool-call fragments without an index (some compatible servers) still make one item per call", () => {
    const call = (id: string | null, args: string) =>
      chunk({ tool_calls: [{ ...(id ? { id, type: "function", function: { name: "f", arguments: "" } } : {}), function: { arguments: args } }] });
    const upstream =
      chunk({ role: "assistant" }) +
      call("call_a", "") +
      call(null, '{"a":') +
      call(null, "1}") +
      call("call_b", "{}") +
      chunk({}, "tool_calls") +
      usageChunk +
      "data: [DONE]\n\n";
    const { list } = run(openAiAdapter, upstream);
    const output = (list.at(-1) as unknown as { response: { output: Array<Record<string, unknown>> } }).response.output;
    expect(output.map((item) => [item.call_id, item.arguments])).toStrictEqual([
      ["call_a", '{"a":1}'],
      ["call_b", "{}"],
    ]);
  });

  it("a length stop ends with response.incomplete (max_output_tokens) and an incomplete message", () => {
    const upstream = chunk({ role: "assistant", content: "" }) + chunk({ content: "Hel" }) + chunk({}, "length") + usageChunk + "data: [DONE]\n\n";
    const { list } = run(openAiAdapter, upstream);
    const last = list.at(-1) as unknown as { type: string; response: Record<string, unknown> };
    expect(last.type).toBe("response.incomplete");
    expect(last.response).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, completed_at: null });
    expect(last.response.output).toMatchObject([{ type: "message", status: "incomplete" }]);
  });

  it("a provider failing mid-stream ends with one response.failed, never the upstream's text", () => {
    const { list, failed } = run(anthropicAdapter, ERROR_STREAM);
    expect(failed).toBe(true);
    const last = list.at(-1) as unknown as { type: string; response: Record<string, unknown> };
    expect(last.type).toBe("response.failed");
    expect(last.response).toMatchObject({ status: "failed", error: { code: "server_error", message: "The provider failed mid-stream." } });
    expect(list.filter((e) => ["response.completed", "response.failed", "response.incomplete"].includes(e.type))).toHaveLength(1);
    expect(list.map((e) => e.sequence_number)).toStrictEqual(list.map((_, i) => i));
    expect(JSON.stringify(list)).not.toContain("Overloaded");
  });

  it("a stream cut before its end, or a timeout before any byte, still starts with response.created", () => {
    const { list } = run(openAiAdapter, chunk({ role: "assistant", content: "" }) + chunk({ content: "Hi" }));
    expect(list.at(-1)!.type).toBe("response.failed");
    const translator = new ChatToResponsesStream(openAiAdapter.createStreamTranslator(testContext({ stream: true })), frame());
    const silent = events([translator.errorFrame("upstream_timeout")]);
    expect(silent.map((e) => e.type)).toStrictEqual(["response.created", "response.in_progress", "response.failed"]);
    expect(silent[2]).toMatchObject({ response: { error: { message: "The provider sent nothing for too long." } } });
    expect(translator.errorFrame("upstream_error")).toBe("");
  });
});

describe("buffered chat completion → Response", () => {
  const usage = { promptTokens: 100, completionTokens: 20, cachedPromptTokens: 40, cacheWriteTokens: 10, reasoningTokens: 5 };

  it("text with reasoning: reasoning item first, then the message; usage in the Responses shape", () => {
    const body = chatToResponse(
      {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [
          { index: 0, message: { role: "assistant", content: "Hello", refusal: null, reasoning_content: "Greet." }, logprobs: null, finish_reason: "stop" },
        ],
      },
      usage,
      frame({ instructions: "Be nice", metadata: { a: "b" } }),
    );
    expect(body).toMatchObject({
      id: "resp_test",
      object: "response",
      created_at: 1_787_659_560,
      status: "completed",
      error: null,
      incomplete_details: null,
      instructions: "Be nice",
      model: "claude-sonnet-4-6",
      store: false,
      previous_response_id: null,
      parallel_tool_calls: true,
      tool_choice: "auto",
      tools: [],
      metadata: { a: "b" },
      output: [
        { type: "reasoning", summary: [{ type: "summary_text", text: "Greet." }] },
        { type: "message", status: "completed", role: "assistant", content: [{ type: "output_text", text: "Hello", annotations: [], logprobs: [] }] },
      ],
      usage: {
        input_tokens: 100,
        input_tokens_details: { cached_tokens: 40, cache_write_tokens: 10 },
        output_tokens: 20,
        output_tokens_details: { reasoning_tokens: 5 },
        total_tokens: 120,
      },
    });
  });

  it("tool calls become function_call items with the chat call id as call_id; length → incomplete", () => {
    const calls = chatToResponse(
      {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              refusal: null,
              tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }],
            },
            logprobs: null,
            finish_reason: "tool_calls",
          },
        ],
      },
      null,
      frame(),
    ) as { output: Array<Record<string, unknown>>; usage: Record<string, unknown> };
    expect(calls.output).toHaveLength(1);
    expect(calls.output[0]).toMatchObject({ type: "function_call", call_id: "call_1", name: "f", arguments: "{}", status: "completed" });
    expect(calls.usage).toMatchObject({ input_tokens: 0, output_tokens: 0 });

    const cut = chatToResponse(
      {
        id: "c",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "Hel", refusal: null }, logprobs: null, finish_reason: "length" }],
      },
      usage,
      frame(),
    );
    expect(cut).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" }, completed_at: null });
  });
});
