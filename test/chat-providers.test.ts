import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { BUILTIN_PRICES, lookupPrice } from "../src/pricing/catalogue";
import { costMicros, formatUsd } from "../src/pricing/price";
import { chat, createKey, sdk } from "./support/gateway";

/**
 * Every provider through the official openai SDK with only the model string changed: mock
 * Anthropic and Gemini upstreams speak their exact wire formats (test/mocks), the OpenAI one too.
 */

const PROVIDERS = [
  { name: "openai", model: "gpt-4o-mini", provider: "openai", bare: "gpt-4o-mini" },
  { name: "anthropic", model: "claude-sonnet-4-6", provider: "anthropic", bare: "claude-sonnet-4-6" },
  { name: "gemini", model: "google/gemini-2.5-flash", provider: "gemini", bare: "gemini-2.5-flash" },
] as const;

const weatherTool: OpenAI.Chat.Completions.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather",
    parameters: { type: "object", properties: { input: { type: "string" } }, required: ["input"] },
  },
};

function expectedCost(provider: string, model: string, usage: OpenAI.CompletionUsage): string {
  const price = lookupPrice(BUILTIN_PRICES[provider], model)!;
  return formatUsd(
    costMicros(price, {
      promptTokens: usage.prompt_tokens,
      completionTokens: usage.completion_tokens,
      cachedPromptTokens: usage.prompt_tokens_details?.cached_tokens ?? 0,
      cacheWriteTokens: 0,
      reasoningTokens: 0,
    }),
  );
}

describe.each(PROVIDERS)("$name through the openai SDK", ({ model, provider, bare }) => {
  it("plain chat: content, exact usage and cost", async () => {
    const client = sdk((await createKey()).key);
    const { data, response } = await client.chat.completions
      .create({ model, messages: [{ role: "user", content: "hello world from the sdk" }] })
      .withResponse();
    expect(data.choices[0]?.message.content).toBe("hello world from the sdk");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    // Every mock counts ceil(chars / 4) tokens: 24 characters in, 24 out.
    expect(data.usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 6, total_tokens: 12 });
    expect(response.headers.get("x-keyforge-cost-usd")).toBe(expectedCost(provider, bare, data.usage!));
  });

  it("streamed chat: the same text and, when asked, the same usage", async () => {
    const client = sdk((await createKey()).key);
    const stream = await client.chat.completions.create({
      model,
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: "user", content: "hello world from the sdk" }],
    });
    let text = "";
    let usage: OpenAI.CompletionUsage | null | undefined = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("hello world from the sdk");
    expect(finish).toBe("stop");
    expect(usage).toMatchObject({ prompt_tokens: 6, completion_tokens: 6 });
  });

  it("a two-round tool call, buffered", async () => {
    const client = sdk((await createKey()).key);
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Paris?" }];
    const first = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
    const call = first.choices[0]?.message.tool_calls?.[0];
    expect(first.choices[0]?.finish_reason).toBe("tool_calls");
    expect(call?.type).toBe("function");
    if (call?.type !== "function") throw new Error("expected a function call");
    expect(call.function.name).toBe("get_weather");
    expect(JSON.parse(call.function.arguments)).toEqual({ input: "Weather in Paris?" });
    messages.push(first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: '{"temp_c":18}' });
    const second = await client.chat.completions.create({ model, messages, tools: [weatherTool] });
    expect(second.choices[0]?.finish_reason).toBe("stop");
    expect(second.choices[0]?.message.content).toContain("Tool result:");
    expect(second.choices[0]?.message.content).toContain("18");
  });

  it("a two-round tool call, streamed", async () => {
    const client = sdk((await createKey()).key);
    const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Oslo?" }];
    const stream = await client.chat.completions.create({ model, messages, tools: [weatherTool], stream: true });
    const calls = new Map<number, { id: string; name: string; args: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const d of chunk.choices[0]?.delta.tool_calls ?? []) {
        const entry = calls.get(d.index) ?? { id: "", name: "", args: "" };
        entry.id ||= d.id ?? "";
        entry.name ||= d.function?.name ?? "";
        entry.args += d.function?.arguments ?? "";
        calls.set(d.index, entry);
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
    const call = calls.get(0)!;
    expect(call.name).toBe("get_weather");
    expect(JSON.parse(call.args)).toEqual({ input: "Weather in Oslo?" });
    messages.push(
      { role: "assistant", content: null, tool_calls: [{ id: call.id, type: "function", function: { name: call.name, arguments: call.args } }] },
      { role: "tool", tool_call_id: call.id, content: '{"temp_c":4}' },
    );
    const second = await client.chat.completions.create({ model, messages, tools: [weatherTool], stream: true });
    let text = "";
    for await (const chunk of second) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toContain("Tool result:");
    expect(text).toContain("4");
  });

  it("json_schema structured output", async () => {
    const client = sdk((await createKey()).key);
    const result = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Summarise the weather" }],
      response_format: {
        type: "json_schema",
        json_schema: {
          name: "weather",
          strict: true,
          schema: {
            type: "object",
            properties: { summary: { type: "string" }, temp_c: { type: "number" } },
            required: ["summary", "temp_c"],
            additionalProperties: false,
          },
        },
      },
    });
    const parsed = JSON.parse(result.choices[0]!.message.content!) as Record<string, unknown>;
    expect(Object.keys(parsed).sort()).toEqual(["summary", "temp_c"]);
    expect(typeof parsed.summary).toBe("string");
    expect(typeof parsed.temp_c).toBe("number");
  });

  it("json_object mode", async () => {
    const client = sdk((await createKey()).key);
    const result = await client.chat.completions.create({
      model,
      messages: [{ role: "user", content: "Reply in JSON" }],
      response_format: { type: "json_object" },
    });
    expect(() => JSON.parse(result.choices[0]!.message.content!)).not.toThrow();
    expect(result.choices[0]?.finish_reason).toBe("stop");
  });
});

describe("cache metering (Anthropic prompt caching)", () => {
  it("bills cache reads and writes at their own prices and reports them in OpenAI usage", async () => {
    const { key } = await createKey();
    const part = (text: string, cached: boolean) => ({ type: "text", text, ...(cached ? { cache_control: { type: "ephemeral" } } : {}) });
    const res = await chat(key, {
      model: "claude-sonnet-4-6",
      messages: [
        // The mock counts text up to the first mark as a cache read, up to the last mark as a cache write.
        { role: "system", content: [part("a".repeat(400), true), part("b".repeat(800), true)] },
        { role: "user", content: "hello world from the sdk" },
      ],
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { usage: OpenAI.CompletionUsage };
    // 100 read + 200 written + 6 plain input tokens; 6 output tokens.
    expect(body.usage).toMatchObject({ prompt_tokens: 306, completion_tokens: 6, prompt_tokens_details: { cached_tokens: 100 } });
    // $3 × 6 + $0.30 × 100 + $3.75 × 200 + $15 × 6 per 1M = 18 + 30 + 750 + 90 = 888 µ$.
    expect(res.headers.get("x-keyforge-cost-usd")).toBe("0.000888");
  });
});
