import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { chatCompletionRequestSchema } from "../../src/openai/schema";
import type { ChatCompletion } from "../../src/openai/types";
import { geminiAdapter } from "../../src/providers/gemini";
import type { AdapterContext } from "../../src/providers/types";
import { SseTranslation } from "../../src/proxy/sse-translation";
import { mockControlUrl, payload, scriptMock, testContext, uniqueKey } from "../unit/providers/support";

/**
 * The adapter against the mock Gemini upstream (test/mocks/gemini-upstream.ts) over real HTTP,
 * with the mock's documented, predictable token counts.
 */

const TOOLS = [{ type: "function" as const, function: { name: "get_weather", parameters: { type: "object" } } }];
type Chunk = {
  choices: Array<{ index: number; delta: { content?: string; tool_calls?: Array<{ index: number; id?: string }> }; finish_reason: string | null }>;
  usage?: unknown;
};

function context(overrides: Partial<AdapterContext> = {}): AdapterContext {
  return testContext({ model: "gemini-2.5-flash", baseUrl: env.GEMINI_BASE_URL, apiKey: uniqueKey("AIza"), ...overrides });
}

async function send(request: unknown, ctx: AdapterContext): Promise<Response> {
  const upstream = geminiAdapter.buildRequest(chatCompletionRequestSchema.parse(request), ctx);
  return fetch(upstream.url, { method: "POST", headers: upstream.headers, body: upstream.body });
}

async function complete(request: unknown, ctx = context()): Promise<{ body: ChatCompletion; usage: unknown }> {
  const res = await send(request, ctx);
  expect(res.status).toBe(200);
  return geminiAdapter.parseResponse(await res.json(), ctx);
}

async function stream(request: unknown, ctx: AdapterContext) {
  const res = await send(request, ctx);
  const translator = geminiAdapter.createStreamTranslator(ctx);
  const translation = new SseTranslation(translator);
  const frames: string[] = [];
  let raw = "";
  let failed = false;
  try {
    const decoder = new TextDecoder();
    for await (const bytes of res.body!) {
      raw += decoder.decode(bytes, { stream: true });
      frames.push(...translation.feed(bytes));
    }
    frames.push(...translation.end());
  } catch {
    failed = true;
  }
  return { frames, raw, failed, translator };
}

const chunks = (frames: string[]) => frames.filter((f) => f !== "data: [DONE]\n\n").map((f) => payload(f) as Chunk);

describe("gemini adapter ⇄ mock upstream", () => {
  it("echoes text with token counts of ceil(chars / 4)", async () => {
    const { body, usage } = await complete({ model: "m", messages: [{ role: "user", content: "Hello there" }] });
    expect(body.choices[0]!.message.content).toBe("Hello there");
    expect(body.choices[0]!.finish_reason).toBe("stop");
    expect(body.id).toMatch(/^chatcmpl-mock/);
    expect(usage).toStrictEqual({ promptTokens: 3, completionTokens: 3, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("runs a two-round tool conversation, naming the function response from the tool_call_id", async () => {
    const ctx = context();
    const messages: Array<Record<string, unknown>> = [{ role: "user", content: "Weather in Paris?" }];
    const round1 = await complete({ model: "m", tools: TOOLS, messages }, ctx);
    const message = round1.body.choices[0]!.message;
    expect(round1.body.choices[0]!.finish_reason).toBe("tool_calls");
    expect(message.content).toBeNull();
    expect(message.tool_calls).toStrictEqual([
      {
        id: `call_${round1.body.id.slice("chatcmpl-".length)}_0`,
        type: "function",
        function: { name: "get_weather", arguments: '{"input":"Weather in Paris?"}' },
      },
    ]);

    messages.push({ role: "assistant", content: null, tool_calls: message.tool_calls });
    messages.push({ role: "tool", tool_call_id: message.tool_calls![0]!.id, content: '{"temp_c":18}' });
    const round2 = await complete({ model: "m", tools: TOOLS, messages }, ctx);
    expect(round2.body.choices[0]!.message.content).toBe('Tool result: {"temp_c":18}');
    expect(round2.body.choices[0]!.finish_reason).toBe("stop");

    const recorded = (await (await fetch(`${mockControlUrl(env.GEMINI_BASE_URL, "requests")}?key=${ctx.apiKey}`)).json()) as Array<{
      path: string;
      body: { contents: Array<{ role: string; parts: unknown[] }> };
    }>;
    expect(recorded.map((r) => r.path)).toStrictEqual(["/v1beta/models/gemini-2.5-flash:generateContent", "/v1beta/models/gemini-2.5-flash:generateContent"]);
    expect(recorded[1]!.body.contents).toStrictEqual([
      { role: "user", parts: [{ text: "Weather in Paris?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: { input: "Weather in Paris?" } } }] },
      { role: "user", parts: [{ functionResponse: { name: "get_weather", response: { temp_c: 18 } } }] },
    ]);
  });

  it("streams CRLF-separated events into OpenAI chunks, then usage and [DONE]", async () => {
    const ctx = context({ stream: true, includeUsage: true });
    const { frames, raw, failed, translator } = await stream({ model: "m", stream: true, messages: [{ role: "user", content: "one two three" }] }, ctx);
    expect(failed).toBe(false);
    expect(raw).toContain("\r\n\r\n");
    expect(raw).not.toContain("[DONE]");
    expect(frames.at(-1)).toBe("data: [DONE]\n\n");
    const cs = chunks(frames);
    expect(cs.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? "")).join("")).toBe("one two three");
    expect(cs.at(-2)!.choices[0]!.finish_reason).toBe("stop");
    // prompt: 13 chars = 4 tokens; output: 13 chars = 4 tokens.
    expect(translator.usage()).toStrictEqual({ promptTokens: 4, completionTokens: 4, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });

  it("streams a whole function call as one tool_calls delta with index 0", async () => {
    const ctx = context({ stream: true });
    const { frames } = await stream({ model: "m", stream: true, tools: TOOLS, tool_choice: "required", messages: [{ role: "user", content: "Rome?" }] }, ctx);
    const calls = chunks(frames).flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ index: 0, type: "function", function: { name: "get_weather", arguments: '{"input":"Rome?"}' } });
    expect(chunks(frames).at(-1)!.choices[0]!.finish_reason).toBe("tool_calls");
  });

  it("meters thoughts separately from candidates and cached content inside the prompt", async () => {
    const { usage } = await complete({
      model: "m",
      reasoning_effort: "low",
      messages: [
        { role: "system", content: "MOCK_CACHED context" },
        { role: "user", content: "Why?" },
      ],
    });
    // prompt: 19 + 4 chars = 6 tokens, 5 of them cached (the 19-char system text); candidates: "Why?" = 1;
    // thoughts: "Thinking about: Why?" (20 chars) = 5.
    expect(usage).toStrictEqual({ promptTokens: 6, completionTokens: 6, cachedPromptTokens: 5, cacheWriteTokens: 0, reasoningTokens: 5 });
  });

  it("answers JSON mode with JSON (schema sample for json_schema, echo object for json_object)", async () => {
    const schema = { type: "object", properties: { summary: { type: "string" }, ok: { type: "boolean" } } };
    const viaSchema = await complete({
      model: "m",
      response_format: { type: "json_schema", json_schema: { name: "s", schema } },
      messages: [{ role: "user", content: "x" }],
    });
    expect(JSON.parse(viaSchema.body.choices[0]!.message.content!)).toStrictEqual({ summary: "mock", ok: false });
    const viaObject = await complete({ model: "m", response_format: { type: "json_object" }, messages: [{ role: "user", content: "hi" }] });
    expect(viaObject.body.choices[0]!.message.content).toBe('{"echo":"hi"}');
  });

  it("returns n candidates as n choices and cuts at max_tokens with finish_reason length", async () => {
    const { body } = await complete({ model: "m", n: 2, max_tokens: 2, messages: [{ role: "user", content: "one two three four five" }] });
    expect(body.choices.map((c) => [c.index, c.message.content, c.finish_reason])).toStrictEqual([
      [0, "one two ", "length"],
      [1, "one two ", "length"],
    ]);
  });

  it("turns a blocked prompt into an empty content_filter answer", async () => {
    const { body } = await complete({ model: "m", messages: [{ role: "user", content: "MOCK_BLOCK this" }] });
    expect(body.choices).toStrictEqual([
      { index: 0, message: { role: "assistant", content: "", refusal: null }, logprobs: null, finish_reason: "content_filter" },
    ]);
  });

  it("answers a bad key with 400 INVALID_ARGUMENT / API_KEY_INVALID, classified as auth", async () => {
    const res = await send({ model: "m", messages: [{ role: "user", content: "x" }] }, context({ apiKey: "bad-key" }));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({ error: { code: 400, status: "INVALID_ARGUMENT", details: [{ reason: "API_KEY_INVALID" }] } });
    expect(geminiAdapter.classifyError(res.status, res.headers, text)).toStrictEqual({ kind: "auth", retryAfterMs: null, upstreamType: "INVALID_ARGUMENT" });
  });

  it("accepts the key as ?key= too", async () => {
    const url = `${env.GEMINI_BASE_URL}/v1beta/models/gemini-2.5-flash:generateContent`;
    const body = JSON.stringify({ contents: [{ role: "user", parts: [{ text: "x" }] }] });
    expect((await fetch(`${url}?key=${uniqueKey("AIza")}`, { method: "POST", body })).status).toBe(200);
    expect((await fetch(url, { method: "POST", body })).status).toBe(403);
  });

  it("serves scripted 429s whose RetryInfo classifies as rate_limited", async () => {
    const ctx = context();
    await scriptMock(env.GEMINI_BASE_URL, {
      key: ctx.apiKey,
      status: 429,
      times: 1,
      body: {
        error: {
          code: 429,
          message: "You exceeded your current quota.",
          status: "RESOURCE_EXHAUSTED",
          details: [
            { "@type": "type.googleapis.com/google.rpc.QuotaFailure", violations: [{ quotaId: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" }] },
            { "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "43s" },
          ],
        },
      },
    });
    const res = await send({ model: "m", messages: [{ role: "user", content: "x" }] }, ctx);
    expect(res.status).toBe(429);
    expect(geminiAdapter.classifyError(res.status, res.headers, await res.text())).toStrictEqual({
      kind: "rate_limited",
      retryAfterMs: 43_000,
      upstreamType: "RESOURCE_EXHAUSTED",
    });
  });

  it("ends with the terminal error frame when the stream carries an error object", async () => {
    const ctx = context({ stream: true });
    const { frames, failed } = await stream({ model: "m", stream: true, messages: [{ role: "user", content: "MOCK_MIDSTREAM_ERROR now" }] }, ctx);
    expect(failed).toBe(false);
    expect(frames).toHaveLength(2);
    expect(frames.at(-1)).toBe('data: {"error":{"message":"The provider failed mid-stream.","type":"api_error","param":null,"code":"upstream_error"}}\n\n');
  });

  it("cuts a CRLF stream after the scripted number of frames", async () => {
    const ctx = context({ stream: true });
    await scriptMock(env.GEMINI_BASE_URL, { key: ctx.apiKey, status: 200, cutAfterFrames: 2 });
    const { frames, failed, translator } = await stream({ model: "m", stream: true, messages: [{ role: "user", content: "a b c d e" }] }, ctx);
    expect(failed).toBe(true);
    expect(frames).toHaveLength(2);
    expect(translator.usage()).toStrictEqual({ promptTokens: 3, completionTokens: 0, cachedPromptTokens: 0, cacheWriteTokens: 0, reasoningTokens: 0 });
  });
});
