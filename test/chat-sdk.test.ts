import { describe, expect, it } from "vitest";
import { createKey, mockUpstream, sdk } from "./support/gateway";

describe("the official openai SDK against the gateway", () => {
  it("buffered completion via mock/echo, with cost and request id headers", async () => {
    const { key } = await createKey();
    const client = sdk(key);
    const { data, response } = await client.chat.completions
      .create({ model: "mock/echo", messages: [{ role: "user", content: "hello there gateway" }] })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(data.choices[0]?.message.content).toBe("hello there gateway");
    expect(data.choices[0]?.finish_reason).toBe("stop");
    // 19 chars → 5 tokens for prompt and completion; mock prices $1 / $2 per 1M tokens.
    expect(data.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 });
    expect(response.headers.get("x-keyforge-cost-usd")).toBe("0.000015");
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
  });

  it("streams mock/echo chunk by chunk; the usage chunk only when asked", async () => {
    const { key } = await createKey();
    const client = sdk(key);
    const plain = await client.chat.completions.create({
      model: "mock/echo",
      messages: [{ role: "user", content: "one two three" }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of plain) chunks.push(chunk);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? "").join("")).toBe("one two three");
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe("stop");
    expect(chunks.every((c) => c.choices.length === 1)).toBe(true);

    const withUsage = await client.chat.completions.create({
      model: "mock/echo",
      messages: [{ role: "user", content: "one two three" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const all = [];
    for await (const chunk of withUsage) all.push(chunk);
    const last = all.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 4, total_tokens: 8 });
  });

  it("proxies an OpenAI-compatible upstream: buffered, streamed and tool calls", async () => {
    // Only this file's namespace of the mock is cleared (see test/mocks/upstreams.ts).
    await mockUpstream.reset();
    const { key } = await createKey();
    const client = sdk(key);
    const buffered = await client.chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "ping" }] });
    expect(buffered.choices[0]?.message.content).toBe("ping");
    expect(buffered.model).toBe("gpt-4o-mini");

    const stream = await client.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "call the tool" }],
      tools: [{ type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } }],
      stream: true,
    });
    const args: string[] = [];
    let name = "";
    let finish = "";
    for await (const chunk of stream) {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) {
        expect(call.index).toBe(0);
        if (call.function?.name) name = call.function.name;
        if (call.function?.arguments) args.push(call.function.arguments);
      }
      if (chunk.choices[0]?.finish_reason) finish = chunk.choices[0].finish_reason;
      expect(chunk.usage ?? null).toBeNull();
    }
    expect(name).toBe("get_weather");
    expect(JSON.parse(args.join(""))).toEqual({ input: "call the tool" });
    expect(finish).toBe("tool_calls");

    const received = await mockUpstream.requests("sk-test-env-openai-0123456789");
    expect(received.map((r) => r.body.model)).toEqual(["gpt-4o-mini", "gpt-4o-mini"]);
    // The gateway always asks for usage so streams are metered, and drops that chunk for this client.
    expect(received[1]?.body.stream_options).toEqual({ include_usage: true });
  });
});
