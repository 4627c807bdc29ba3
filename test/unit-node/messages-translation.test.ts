import { describe, expect, it } from "vitest";
import { canonicalEntryBytes } from "../../src/audit/canonical-json";
import { estimateMessagesPromptTokens, unboundedMessagesField } from "../../src/messages/bounds";
import { ChatToMessagesStream } from "../../src/messages/from-chat";
import { NativeStream } from "../../src/messages/native";
import { messagesRequestSchema } from "../../src/messages/schema";
import { messagesToChat } from "../../src/messages/to-chat";
import type { AdapterContext, SseEvent, StreamTranslator, Usage } from "../../src/providers/types";

/** Pure pieces of /v1/messages: the audit entry's optional endpoint, translation both ways, the native relay, bounds. */

const ctx: AdapterContext = {
  model: "gpt-4o-mini",
  baseUrl: "http://x",
  apiKey: "k",
  stream: true,
  includeUsage: true,
  defaultMaxTokens: null,
  requestId: "req_0123456789abcdef0123456789abcdef",
  created: 1,
};

const entry = {
  v: 1,
  key_id: "abc",
  seq: 1,
  ts: 1,
  request_id: "req_1",
  model: "anthropic/claude-sonnet-4-6",
  provider: "anthropic",
  status: 200,
  prompt_tokens: 1,
  completion_tokens: 1,
  cost_micros: 1,
  latency_ms: 1,
  stream: false,
};

describe("the audit entry's endpoint field", () => {
  it("is optional (entries written before it verify unchanged), an identifier when present", () => {
    expect(() => canonicalEntryBytes(entry)).not.toThrow();
    expect(new TextDecoder().decode(canonicalEntryBytes({ ...entry, endpoint: "messages" }))).toContain('"endpoint":"messages"');
    expect(() => canonicalEntryBytes({ ...entry, endpoint: "Messages!" })).toThrow(/endpoint/);
  });
});

describe("Messages → Chat", () => {
  it("system, tool results before the user's text, tool calls, tool choice, thinking dropped", () => {
    const request = messagesRequestSchema.parse({
      model: "gpt-4o-mini",
      max_tokens: 100,
      system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
      tools: [{ name: "get", description: "d", input_schema: { type: "object" } }],
      tool_choice: { type: "any", disable_parallel_tool_use: true },
      stop_sequences: ["END"],
      metadata: { user_id: "u1" },
      thinking: { type: "adaptive" },
      messages: [
        { role: "user", content: "hi" },
        {
          role: "assistant",
          content: [
            { type: "thinking", thinking: "t", signature: "s" },
            { type: "text", text: "calling" },
            { type: "tool_use", id: "toolu_1", name: "get", input: { a: 1 } },
          ],
        },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "bad" }], is_error: true },
            { type: "text", text: "and now?" },
          ],
        },
      ],
    });
    expect(messagesToChat(request, "openai")).toEqual({
      model: "gpt-4o-mini",
      max_completion_tokens: 100,
      stop: ["END"],
      user: "u1",
      tools: [{ type: "function", function: { name: "get", description: "d", parameters: { type: "object" } } }],
      tool_choice: "required",
      parallel_tool_calls: false,
      messages: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "hi" },
        { role: "assistant", content: "calling", tool_calls: [{ id: "toolu_1", type: "function", function: { name: "get", arguments: '{"a":1}' } }] },
        { role: "tool", tool_call_id: "toolu_1", content: "Error: bad" },
        { role: "user", content: "and now?" },
      ],
    });
    expect(messagesToChat(request, "gemini").max_tokens).toBe(100);
  });

  it("refuses what Chat cannot carry, naming the field", () => {
    const pdf = messagesRequestSchema.parse({
      model: "gpt-4o-mini",
      max_tokens: 10,
      messages: [{ role: "user", content: [{ type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBE" } }] }],
    });
    expect(() => messagesToChat(pdf, "openai")).toThrow(expect.objectContaining({ code: "invalid_request", param: "messages[0].content[0]" }));
  });
});

/** A chat translator stand-in that emits the given OpenAI frames and usage. */
function fakeChat(frames: string[][], usage: Usage): StreamTranslator {
  let i = 0;
  return { push: () => frames[i++] ?? [], end: () => ["data: [DONE]\n\n"], usage: () => usage };
}

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;

const events = (frames: string[]) => frames.map((f) => JSON.parse(f.split("\n")[1]!.slice(6)) as Record<string, unknown>);

describe("Chat stream → Messages events", () => {
  it("text, then two tool calls, each its own block; the usage in the final message_delta", () => {
    const usage: Usage = { promptTokens: 30, completionTokens: 9, cachedPromptTokens: 10, cacheWriteTokens: 0, reasoningTokens: 0 };
    const stream = new ChatToMessagesStream(
      fakeChat(
        [
          [chunk({ role: "assistant", content: "Hi" })],
          [chunk({ tool_calls: [{ index: 0, id: "call_a", type: "function", function: { name: "f", arguments: "" } }] })],
          [chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":1}' } }] })],
          [chunk({ tool_calls: [{ index: 1, id: "call_b", type: "function", function: { name: "g", arguments: "{}" } }] })],
          [chunk({}, "tool_calls")],
        ],
        usage,
      ),
      "gpt-4o-mini",
      ctx,
    );
    const out: string[] = [];
    const ev: SseEvent = { data: "{}" };
    for (let i = 0; i < 5; i++) out.push(...stream.push(ev));
    out.push(...stream.end());
    const parsed = events(out);
    expect(parsed.map((e) => e.type)).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(parsed[4]).toMatchObject({ index: 1, content_block: { type: "tool_use", id: "call_a", name: "f", input: {} } });
    expect(parsed[5]).toMatchObject({ index: 1, delta: { type: "input_json_delta", partial_json: '{"x":1}' } });
    expect(parsed[7]).toMatchObject({ index: 2, content_block: { id: "call_b", name: "g" } });
    expect(parsed[10]).toEqual({
      type: "message_delta",
      delta: { stop_reason: "tool_use", stop_sequence: null },
      usage: { input_tokens: 20, cache_creation_input_tokens: 0, cache_read_input_tokens: 10, output_tokens: 9 },
    });
    expect(stream.errorFrame("upstream_timeout")).toContain('"type":"timeout_error"');
  });
});

const sse = (type: string, data: Record<string, unknown>): SseEvent => ({ event: type, data: JSON.stringify({ type, ...data }) });

describe("the native relay", () => {
  it("relays each event as its own frame and meters message_start + the last message_delta", () => {
    const relay = new NativeStream();
    const start = sse("message_start", {
      message: { usage: { input_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20, output_tokens: 1 } },
    });
    expect(relay.push(start)).toEqual([`event: message_start\ndata: ${start.data}\n\n`]);
    relay.push(sse("ping", {}));
    relay.push(sse("message_delta", { delta: { stop_reason: "end_turn" }, usage: { output_tokens: 42 } }));
    relay.push(sse("message_stop", {}));
    expect(relay.end()).toEqual([]);
    expect(relay.usage()).toMatchObject({ promptTokens: 125, cachedPromptTokens: 100, cacheWriteTokens: 20, completionTokens: 42 });
  });

  it("cut before any message_delta: the streamed text is metered; an upstream error event keeps its type, not its text", () => {
    const relay = new NativeStream();
    relay.push(sse("message_start", { message: { usage: { input_tokens: 5, output_tokens: 1 } } }));
    relay.push(sse("content_block_delta", { index: 0, delta: { type: "text_delta", text: "x".repeat(300) } }));
    expect(relay.usage()!.completionTokens).toBe(100);
    expect(() => relay.push(sse("error", { error: { type: "overloaded_error", message: "secret upstream words" } }))).toThrow();
    const frame = relay.errorFrame("upstream_error");
    expect(frame).toContain('"type":"overloaded_error"');
    expect(frame).not.toContain("secret upstream words");
    expect(() => new NativeStream().end()).toThrow();
  });
});

describe("bounds of a native request", () => {
  it("images count a fixed allowance, server tools and PDFs are unbounded", () => {
    const image = { type: "image", source: { type: "base64", media_type: "image/png", data: "A".repeat(3_000_000) } };
    const request = messagesRequestSchema.parse({ model: "claude-sonnet-4-6", max_tokens: 10, messages: [{ role: "user", content: [image] }] });
    expect(estimateMessagesPromptTokens(request, "claude-sonnet-4-6")).toBeLessThan(20_000);
    expect(unboundedMessagesField(request)).toBeNull();
    const pdf = {
      ...request,
      messages: [
        {
          role: "user" as const,
          content: [{ type: "tool_result", tool_use_id: "t", content: [{ type: "document", source: { type: "file", file_id: "f" } }] }],
        },
      ],
    };
    expect(unboundedMessagesField(pdf)?.param).toBe("messages[0].content[0]");
    expect(unboundedMessagesField({ ...request, tools: [{ type: "web_fetch_20250910", name: "web_fetch" }] })).toMatchObject({
      param: "tools[0]",
      kind: "tokens",
    });
    expect(unboundedMessagesField({ ...request, tools: [{ type: "bash_20250124", name: "bash" }] })).toBeNull();
  });
});
