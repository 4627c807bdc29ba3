import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/openai/schema";
import type { ChatCompletion } from "../../src/openai/types";
import { anthropicAdapter } from "../../src/providers/anthropic";
import { SseTranslation } from "../../src/proxy/sse-translation";
import type { AdapterContext } from "../../src/providers/types";
import { mockControlUrl, payload, scriptMock, testContext, uniqueKey } from "../unit/providers/support";

/**
 * The adapter against the mock Anthropic upstream (test/mocks/anthropic-upstream.ts) over real
 * HTTP: proves the translated requests are ones the wire format accepts and the mock's answers
 * translate back, with the mock's documented, predictable token counts.
 */

const TOOLS = [
  {
    type: "function" as const,
    function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
  },
];

function context(overrides: Partial<AdapterContext> = {}): AdapterContext {
  return testContext({ model: "claude-sonnet-4-6", baseUrl: env.ANTHROPIC_BASE_URL, apiKey: uniqueKey("sk-ant-"), ...overrides });
}

async function send(request: unknown, ctx: AdapterContext): Promise<Response> {
  const upstream = anthropicAdapter.buildRequest(chatCompletionRequestSchema.parse(request), ctx);
  return fetch(upstream.url, { method: "POST", headers: upstream.headers, body: upstream.body });
}

async function complete(request: unknown, ctx = context()): Promise<{ body: ChatCompletion; usage: unknown }> {
  const res = await send(request, ctx);
  expect(res.status).toBe(200);
  return anthropicAdapter.parseResponse(await res.json(), ctx);
}

async function stream(request: unknown, ctx: AdapterContext) {
  const res = await send(request, ctx);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const translator = anthropicAdapter.createStreamTranslator(ctx);
  const translation = new SseTranslation(translator);
  const frames: string[] = [];
  let failed = false;
  try {
    for await (const bytes of res.body!) frames.push(...translation.feed(bytes));
    frames.push(...translation.end());
  } catch {
    failed = true;
  }
  return { frames, failed, translator };
}

describe("anthropic adapter ⇄ mock upstream", () => {
  it("echoes text with input/output tokens of ceil(chars / 4)", async () => {
    const { body, usage } = await complete({ model: "m", messages: [{ role: "user", content: "Hello there" }] });
    expect(body.choices[0]!.message.content).toBe("Hello there");
    expect(body.choices[0]!.finish_reason).toBe("stop");
    expect(usage).toStrictEqual({ promptTokens: 3, completionTokens: 3, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("runs a two-round tool conversation", async () => {
    const ctx = context();
    const messages: Array<Record<string, unknown>> = [{ role: "user", content: "Weather in Paris?" }];
    const round1 = await complete({ model: "m", tools: TOOLS, messages }, ctx);
    const message = round1.body.choices[0]!.message;
    expect(round1.body.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.content).toBe("Calling get_weather.");
    expect(message.tool_calls).toHaveLength(1);
    expect(message.tool_calls![0]!.id).toMatch(/^toolu_01/);
    expect(message.tool_calls![0]!.function).toStrictEqual({ name: "get_weather", arguments: '{"input":"Weather in Paris?"}' });

    messages.push({ role: "assistant", content: message.content, tool_calls: message.tool_calls });
    messages.push({ role: "tool", tool_call_id: message.tool_calls![0]!.id, content: '{"temp_c":18}' });
    const round2 = await complete({ model: "m", tools: TOOLS, messages }, ctx);
    expect(round2.body.choices[0]!.message.content).toBe('Tool result: {"temp_c":18}');
    expect(round2.body.choices[0]!.finish_reason).toBe("stop");

    const recorded = (await (await fetch(`${mockControlUrl(env.ANTHROPIC_BASE_URL, "requests")}?key=${ctx.apiKey}`)).json()) as Array<{
      path: string;
      body: { messages: Array<{ role: string; content: Array<{ type: string }> }> };
    }>;
    expect(recorded.map((r) => r.path)).toStrictEqual(["/v1/messages", "/v1/messages"]);
    expect(recorded[1]!.body.messages.map((m) => [m.role, m.content.map((b) => b.type)])).toStrictEqual([
      ["user", ["text"]],
      ["assistant", ["text", "tool_use"]],
      ["user", ["tool_result"]],
    ]);
  });

  it("meters cache reads and writes from cache_control breakpoints", async () => {
    const { body, usage } = await complete({
      model: "m",
      messages: [
        { role: "system", content: [{ type: "text", text: "You are a helpful assistant.", cache_control: { type: "ephemeral" } }] },
        {
          role: "user",
          content: [
            { type: "text", text: "Here is a long document.", cache_control: { type: "ephemeral" } },
            { type: "text", text: "Question?" },
          ],
        },
      ],
    });
    // read = tokens(28 chars) = 7, write = tokens(24) = 6, uncached input = tokens(9) = 3; output echoes 33 chars = 9.
    expect(usage).toStrictEqual({ promptTokens: 16, completionTokens: 9, cachedPromptTokens: 7, cacheWriteTokens: 6, reasoningTokens: 0 });
    expect(body.usage).toStrictEqual({
      prompt_tokens: 16,
      completion_tokens: 9,
      total_tokens: 25,
      prompt_tokens_details: { cached_tokens: 7 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  it("answers json_object through the forced tool as plain JSON content, buffered and streamed", async () => {
    const request = { model: "m", response_format: { type: "json_object" }, messages: [{ role: "user", content: "hi" }] };
    const { body } = await complete(request);
    expect(body.choices[0]!.message).toStrictEqual({ role: "assistant", content: '{"echo":"hi"}', refusal: null });
    expect(body.choices[0]!.finish_reason).toBe("stop");

    const streamed = await stream({ ...request, stream: true }, context({ stream: true }));
    const deltas = streamed.frames
      .slice(0, -1)
      .map((f) => (payload(f) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> }).choices[0]!);
    expect(deltas.map((d) => d.delta.content ?? "").join("")).toBe('{"echo":"hi"}');
    expect(deltas.at(-1)!.finish_reason).toBe("stop");
  });

  it("honours json_schema through output_config", async () => {
    const schema = { type: "object", properties: { summary: { type: "string" }, score: { type: "integer" } } };
    const { body } = await complete({
      model: "m",
      response_format: { type: "json_schema", json_schema: { name: "s", schema } },
      messages: [{ role: "user", content: "x" }],
    });
    expect(JSON.parse(body.choices[0]!.message.content!)).toStrictEqual({ summary: "mock", score: 0 });
  });

  it("streams a tool call with OpenAI index 0 after a text block, then usage and [DONE]", async () => {
    const ctx = context({ stream: true, includeUsage: true });
    const { frames, failed, translator } = await stream({ model: "m", stream: true, tools: TOOLS, messages: [{ role: "user", content: "Rome?" }] }, ctx);
    expect(failed).toBe(false);
    expect(frames.at(-1)).toBe("data: [DONE]\n\n");
    type Chunk = {
      choices: Array<{
        delta: { content?: string; tool_calls?: Array<{ index: number; id?: string; function?: { arguments?: string } }> };
        finish_reason: string | null;
      }>;
      usage?: unknown;
    };
    const chunks = frames.slice(0, -1).map((f) => payload(f) as Chunk);
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(new Set(calls.map((c) => c.index))).toStrictEqual(new Set([0]));
    expect(calls.map((c) => c.function?.arguments ?? "").join("")).toBe('{"input":"Rome?"}');
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("Calling get_weather.");
    expect(chunks.at(-2)!.choices[0]!.finish_reason).toBe("tool_calls");
    // prompt: "Rome?" = 2 tokens; output: "Calling get_weather." (20) + '{"input":"Rome?"}' (17) = 37 chars = 10 tokens.
    expect(chunks.at(-1)!.usage).toStrictEqual({
      prompt_tokens: 2,
      completion_tokens: 10,
      total_tokens: 12,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(translator.usage()).toStrictEqual({ promptTokens: 2, completionTokens: 10, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("streams thinking as reasoning_content when reasoning_effort is set", async () => {
    const ctx = context({ stream: true });
    const { frames } = await stream({ model: "m", stream: true, reasoning_effort: "low", messages: [{ role: "user", content: "Why?" }] }, ctx);
    const deltas = frames.slice(0, -1).map((f) => (payload(f) as { choices: Array<{ delta: { reasoning_content?: string } }> }).choices[0]!.delta);
    expect(deltas.map((d) => d.reasoning_content ?? "").join("")).toBe("Thinking about: Why?");
  });

  it("ends a stream with the terminal error frame on a mid-stream error event", async () => {
    const ctx = context({ stream: true });
    const { frames, failed } = await stream({ model: "m", stream: true, messages: [{ role: "user", content: "MOCK_MIDSTREAM_ERROR now" }] }, ctx);
    expect(failed).toBe(false);
    expect(frames.at(-1)).toBe('data: {"error":{"message":"The provider failed mid-stream.","type":"api_error","param":null,"code":"upstream_error"}}\n\n');
  });

  it("keeps the usage seen when the connection is cut mid-stream", async () => {
    const ctx = context({ stream: true });
    await scriptMock(env.ANTHROPIC_BASE_URL, { key: ctx.apiKey, status: 200, cutAfterFrames: 3 });
    const { failed, translator, frames } = await stream({ model: "m", stream: true, messages: [{ role: "user", content: "one two three four" }] }, ctx);
    // message_start, ping, content_block_start arrive; the role chunk is all the client got.
    expect(frames).toHaveLength(1);
    expect(failed).toBe(true);
    expect(translator.usage()).toStrictEqual({ promptTokens: 5, completionTokens: 1, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("rejects a bad key with 401 authentication_error, classified as auth", async () => {
    const ctx = context({ apiKey: "sk-bad-key" });
    const res = await send({ model: "m", messages: [{ role: "user", content: "x" }] }, ctx);
    expect(res.status).toBe(401);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(res.headers.get("request-id")).toMatch(/^req_/);
    expect(anthropicAdapter.classifyError(res.status, res.headers, text)).toStrictEqual({
      kind: "auth",
      retryAfterMs: null,
      upstreamType: "authentication_error",
    });
  });

  it("requires anthropic-version and max_tokens like the real API", async () => {
    const url = `${env.ANTHROPIC_BASE_URL}/v1/messages`;
    const headers = { "x-api-key": uniqueKey("sk-ant-"), "content-type": "application/json" };
    const noVersion = await fetch(url, {
      method: "POST",
      headers,
      body: JSON.stringify({ model: "m", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    });
    expect(noVersion.status).toBe(400);
    const noMax = await fetch(url, {
      method: "POST",
      headers: { ...headers, "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }] }),
    });
    expect(noMax.status).toBe(400);
    expect(await noMax.json()).toMatchObject({ type: "error", error: { type: "invalid_request_error" }, request_id: expect.stringMatching(/^req_/) });
  });

  it("serves scripted 429s that classify as rate_limited with the retry hint", async () => {
    const ctx = context();
    await scriptMock(env.ANTHROPIC_BASE_URL, {
      key: ctx.apiKey,
      status: 429,
      times: 1,
      headers: { "retry-after": "12" },
      body: { type: "error", error: { type: "rate_limit_error", message: "slow down" }, request_id: "req_x" },
    });
    const res = await send({ model: "m", messages: [{ role: "user", content: "x" }] }, ctx);
    expect(res.status).toBe(429);
    expect(anthropicAdapter.classifyError(res.status, res.headers, await res.text())).toStrictEqual({
      kind: "rate_limited",
      retryAfterMs: 12_000,
      upstreamType: "rate_limit_error",
    });
    expect((await send({ model: "m", messages: [{ role: "user", content: "x" }] }, ctx)).status).toBe(200);
  });
});
