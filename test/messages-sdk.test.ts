import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, it } from "vitest";
import { anthropicRequests, anthropicSdk, messagesFetch } from "./support/anthropic";
import { BASE, createKey, gatewayFetch, mockUpstream } from "./support/gateway";

/**
 * The official @anthropic-ai/sdk against /v1/messages, with only the base URL and the key changed:
 * a Claude model (forwarded natively to the mock Anthropic) and GPT / mock models (translated
 * through the chat adapters), with both credential headers. Markers in the prompts are unique per
 * test so the recorded upstream requests of parallel tests are told apart.
 */

const CLAUDE = "claude-sonnet-4-6";
const GPT = "gpt-4o-mini";
const weather = {
  name: "get_weather",
  description: "Current weather",
  input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] },
};

describe("@anthropic-ai/sdk → /v1/messages with a Claude model (native)", () => {
  it("create, x-api-key: the upstream gets the client's bytes and headers; the answer is Anthropic's", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const sentHeaders: Headers[] = [];
    const client = anthropicSdk(key, "x-api-key", { sent: sentHeaders });
    const { data, response } = await client.messages
      .create(
        { model: CLAUDE, max_tokens: 64, messages: [{ role: "user", content: "native-create-marker hello" }] },
        { headers: { "anthropic-beta": "interleaved-thinking-2025-05-14,context-1m-2025-08-07" } },
      )
      .withResponse();
    expect(data.type).toBe("message");
    expect(data.content).toEqual([{ type: "text", text: "native-create-marker hello" }]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-request-id")).toMatch(/^req_[0-9a-f]{32}$/);
    expect(response.headers.get("request-id")).toBe(response.headers.get("x-request-id"));
    expect(Number(response.headers.get("x-keyforge-cost-usd"))).toBeGreaterThan(0);

    const [upstream] = await anthropicRequests("native-create-marker");
    expect(upstream!.path).toBe("/v1/messages");
    expect(upstream!.key).toBe("sk-ant-test-env-0123456789");
    // Whatever version the SDK speaks goes upstream unchanged.
    expect(upstream!.headers["anthropic-version"]).toBe(sentHeaders[0]!.get("anthropic-version"));
    expect(upstream!.headers["anthropic-version"]).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(upstream!.headers["anthropic-beta"]).toBe("interleaved-thinking-2025-05-14,context-1m-2025-08-07");
    expect(upstream!.raw).toBe(JSON.stringify({ model: CLAUDE, max_tokens: 64, messages: [{ role: "user", content: "native-create-marker hello" }] }));
  });

  it("stream, Authorization: Bearer: every event relayed in order (pings included), thinking and its signature intact", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const client = anthropicSdk(key, "bearer");
    const stream = await client.messages.create({
      model: CLAUDE,
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      messages: [{ role: "user", content: "native-stream-marker one two three" }],
      stream: true,
    });
    const types: string[] = [];
    let text = "";
    let signature = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
      if (event.type === "content_block_delta" && event.delta.type === "signature_delta") signature = event.delta.signature;
    }
    expect(types[0]).toBe("message_start");
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(text).toBe("native-stream-marker one two three");
    expect(signature).toBe("EqQBmock");

    // On the wire (the SDK hides pings): named events, pings where the upstream sent them.
    const raw = await messagesFetch(
      "/v1/messages?beta=true",
      null,
      { model: CLAUDE, max_tokens: 64, stream: true, messages: [{ role: "user", content: "native-stream-marker raw" }] },
      {
        authorization: `Bearer ${key}`,
      },
    );
    expect(raw.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const wire = await raw.text();
    const names = [...wire.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    expect(names).toEqual([
      "message_start",
      "ping",
      "content_block_start",
      "ping",
      "content_block_delta",
      "content_block_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(wire).toContain('event: ping\ndata: {"type":"ping"}\n\n');

    // The helper API (stream().finalMessage()) assembles the same message.
    const final = await client.messages
      .stream({ model: CLAUDE, max_tokens: 64, messages: [{ role: "user", content: "native-stream-marker again" }] })
      .finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "native-stream-marker again" }]);
  });

  it("tools: tool_use, then thinking + signature + tool_use + tool_result sent back byte for byte", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const client = anthropicSdk(key);
    const first = await client.messages.create({
      model: CLAUDE,
      max_tokens: 2048,
      thinking: { type: "enabled", budget_tokens: 1024 },
      tools: [weather],
      messages: [{ role: "user", content: "native-tools-marker Paris" }],
    });
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((b) => b.type)).toEqual(["thinking", "text", "tool_use"]);
    const toolUse = first.content.find((b) => b.type === "tool_use")!;

    const { data: second, response } = await client.messages
      .create({
        model: CLAUDE,
        max_tokens: 2048,
        thinking: { type: "enabled", budget_tokens: 1024 },
        tools: [weather],
        system: [{ type: "text", text: "Be brief.", cache_control: { type: "ephemeral" } }],
        messages: [
          { role: "user", content: "native-tools-marker Paris" },
          { role: "assistant", content: [...first.content, { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" }] },
          {
            role: "user",
            content: [{ type: "tool_result", tool_use_id: toolUse.id, content: "18 degrees", cache_control: { type: "ephemeral", ttl: "1h" } }],
          },
        ],
      })
      .withResponse();
    expect(second.content).toEqual([
      { type: "thinking", thinking: "Thinking about: native-tools-marker Paris", signature: "EqQBmock" },
      { type: "text", text: "Tool result: 18 degrees" },
    ]);
    const sent = (await anthropicRequests("native-tools-marker")).at(-1)!;
    const assistant = (sent.body.messages as Array<{ content: unknown }>)[1]!.content;
    expect(assistant).toEqual([...first.content, { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4a" }]);
    expect(sent.raw).toContain('"cache_control":{"type":"ephemeral","ttl":"1h"}');
    // Cache reads and 1-hour writes were reported, and metered at their prices (claude-sonnet-4-6 per 1M
    // tokens: $3 input, $0.30 read, $6 1-hour write, $15 output; micro-dollars = tokens × $/1M).
    const usage = second.usage;
    const writes1h = usage.cache_creation?.ephemeral_1h_input_tokens ?? 0;
    expect(writes1h).toBeGreaterThan(0);
    expect(usage.cache_read_input_tokens).toBeGreaterThan(0);
    const micros = Math.ceil(usage.input_tokens * 3 + usage.cache_read_input_tokens! * 0.3 + writes1h * 6 + usage.output_tokens * 15);
    expect(response.headers.get("x-keyforge-cost-usd")).toBe((micros / 1_000_000).toFixed(6));
  });

  it("countTokens: Anthropic's count, admitted and audited, charged nothing", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ spend_cap_usd: 1 });
    const client = anthropicSdk(key);
    const { data, response } = await client.messages
      .countTokens({ model: CLAUDE, system: "Be brief.", tools: [weather], messages: [{ role: "user", content: "native-count-marker how many?" }] })
      .withResponse();
    const [upstream] = await anthropicRequests("native-count-marker");
    expect(upstream!.path).toBe("/v1/messages/count_tokens");
    expect(data.input_tokens).toBe(Math.ceil("Be brief.native-count-marker how many?".length / 4));
    expect(response.headers.get("x-keyforge-cost-usd")).toBe("0.000000");
  });
});

describe("@anthropic-ai/sdk → /v1/messages with a GPT model (translated through the chat adapter)", () => {
  it("create, both credential headers: an Anthropic Message from an OpenAI completion", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    for (const header of ["x-api-key", "bearer"] as const) {
      const { data, response } = await anthropicSdk(key, header)
        .messages.create({ model: GPT, max_tokens: 50, system: "You echo.", messages: [{ role: "user", content: `gpt-create-marker ${header}` }] })
        .withResponse();
      expect(data).toMatchObject({ type: "message", role: "assistant", model: GPT, stop_reason: "end_turn", stop_sequence: null });
      expect(data.id).toMatch(/^msg_/);
      expect(data.content).toEqual([{ type: "text", text: `gpt-create-marker ${header}` }]);
      expect(data.usage.input_tokens).toBeGreaterThan(0);
      expect(data.usage.output_tokens).toBeGreaterThan(0);
      expect(Number(response.headers.get("x-keyforge-cost-usd"))).toBeGreaterThan(0);
    }
    const sent = (await mockUpstream.requests()).filter((r) => r.provider === "openai" && JSON.stringify(r.body).includes("gpt-create-marker"));
    expect(sent[0]!.path).toBe("/v1/chat/completions");
    expect(sent[0]!.body).toMatchObject({
      model: GPT,
      max_completion_tokens: 50,
      messages: [
        { role: "system", content: "You echo." },
        { role: "user", content: "gpt-create-marker x-api-key" },
      ],
    });
  });

  it("stream: the Anthropic event sequence, text deltas and the final usage", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const stream = anthropicSdk(key, "bearer").messages.stream({
      model: GPT,
      max_tokens: 50,
      messages: [{ role: "user", content: "gpt stream marker words" }],
    });
    const types: string[] = [];
    stream.on("streamEvent", (event) => types.push(event.type));
    const final = await stream.finalMessage();
    expect(final.content).toEqual([{ type: "text", text: "gpt stream marker words" }]);
    expect(final.stop_reason).toBe("end_turn");
    expect(final.usage.output_tokens).toBeGreaterThan(0);
    expect(types[0]).toBe("message_start");
    expect(types.filter((t) => t === "content_block_start")).toHaveLength(1);
    expect(types.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
  });

  it("tools: tool_use out (buffered and streamed), tool_result back as a tool message", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const client = anthropicSdk(key);
    const first = await client.messages.create({
      model: GPT,
      max_tokens: 100,
      tools: [weather],
      messages: [{ role: "user", content: "gpt-tools-marker Paris" }],
    });
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === "tool_use")!;
    expect(call).toMatchObject({ name: "get_weather", input: { input: "gpt-tools-marker Paris" } });

    const streamed = await client.messages
      .stream({
        model: GPT,
        max_tokens: 100,
        tools: [weather],
        tool_choice: { type: "tool", name: "get_weather" },
        messages: [{ role: "user", content: "gpt-tools-marker Rome" }],
      })
      .finalMessage();
    expect(streamed.stop_reason).toBe("tool_use");
    expect(streamed.content).toEqual([{ type: "tool_use", id: expect.any(String), name: "get_weather", input: { input: "gpt-tools-marker Rome" } }]);

    const second = await client.messages.create({
      model: GPT,
      max_tokens: 100,
      tools: [weather],
      messages: [
        { role: "user", content: "gpt-tools-marker Paris" },
        { role: "assistant", content: first.content },
        { role: "user", content: [{ type: "tool_result", tool_use_id: call.id, content: "18 degrees" }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "Tool result: 18 degrees" }]);
    const sent = (await mockUpstream.requests()).filter((r) => r.provider === "openai" && JSON.stringify(r.body).includes("gpt-tools-marker Paris")).at(-1)!;
    expect((sent.body.messages as unknown[]).slice(1)).toEqual([
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: call.id, type: "function", function: { name: "get_weather", arguments: JSON.stringify(call.input) } }],
      },
      { role: "tool", tool_call_id: call.id, content: "18 degrees" },
    ]);
    expect(sent.body.tools).toEqual([
      { type: "function", function: { name: "get_weather", description: "Current weather", parameters: weather.input_schema } },
    ]);
  });

  it("countTokens: a stated estimate, never below the real count", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const { data, response } = await anthropicSdk(key, "bearer")
      .messages.countTokens({ model: GPT, messages: [{ role: "user", content: "count these words please" }] })
      .withResponse();
    expect(response.headers.get("x-keyforge-token-count")).toBe("estimate");
    expect(data.input_tokens).toBeGreaterThanOrEqual(Math.ceil("count these words please".length / 4));
  });
});

describe("the Anthropic surface's errors and probes", () => {
  it("errors come in Anthropic's shape with its types; the SDK classifies them", { timeout: 20_000 }, async () => {
    const { key } = await createKey({ models: ["anthropic/claude-haiku-4-5"] });
    await expect(
      anthropicSdk("vk_not-a-key").messages.create({ model: CLAUDE, max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.AuthenticationError);
    await expect(anthropicSdk(key).messages.create({ model: CLAUDE, max_tokens: 5, messages: [{ role: "user", content: "x" }] })).rejects.toBeInstanceOf(
      Anthropic.PermissionDeniedError,
    );
    await expect(
      anthropicSdk(key).messages.create({ model: "claude-nope-9", max_tokens: 5, messages: [{ role: "user", content: "x" }] }),
    ).rejects.toBeInstanceOf(Anthropic.PermissionDeniedError);

    const missing = await messagesFetch("/v1/messages?beta=true", null, { model: CLAUDE, max_tokens: 5, messages: [] });
    expect(missing.status).toBe(401);
    const body = (await missing.json()) as { type: string; error: { type: string; message: string }; request_id: string };
    expect(body).toMatchObject({ type: "error", error: { type: "authentication_error" } });
    expect(body.request_id).toBe(missing.headers.get("request-id"));

    const open = await createKey();
    const noMaxTokens = await messagesFetch("/v1/messages", open.key, { model: CLAUDE, messages: [{ role: "user", content: "x" }] });
    expect(noMaxTokens.status).toBe(400);
    expect(((await noMaxTokens.json()) as { error: { type: string; message: string } }).error).toMatchObject({
      type: "invalid_request_error",
      message: expect.stringContaining("max_tokens"),
    });
    const notJson = await messagesFetch("/v1/messages", open.key, "{not json");
    expect(notJson.status).toBe(400);
    const unknown = await messagesFetch("/v1/messages", open.key, { model: "nobody-knows-this", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { type: string } }).error.type).toBe("not_found_error");
    // An OAuth token (not a vk_ key) is refused, whichever header carries it.
    const oauth = await messagesFetch(
      "/v1/messages",
      null,
      { model: CLAUDE, max_tokens: 5, messages: [{ role: "user", content: "x" }] },
      { authorization: "Bearer sk-ant-oat01-abc" },
    );
    expect(oauth.status).toBe(401);
  });

  it("a server tool the translation cannot carry is a clear 400 for a GPT model", { timeout: 20_000 }, async () => {
    const { key } = await createKey();
    const res = await messagesFetch("/v1/messages", key, {
      model: GPT,
      max_tokens: 50,
      tools: [{ type: "web_search_20250305", name: "web_search" }],
      messages: [{ role: "user", content: "search" }],
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { type: string; message: string } }).error).toMatchObject({
      type: "invalid_request_error",
      message: expect.stringContaining("web_search_20250305"),
    });
  });

  it("a browser's preflight for the Anthropic SDK's headers passes", { timeout: 20_000 }, async () => {
    const res = await gatewayFetch(`${BASE}/v1/messages`, {
      method: "OPTIONS",
      headers: {
        origin: "https://agent.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-api-key,anthropic-version,anthropic-beta,anthropic-dangerous-direct-browser-access,content-type",
      },
    });
    expect(res.status).toBeLessThan(300);
    const allowed = res.headers.get("access-control-allow-headers") ?? "";
    for (const header of ["x-api-key", "anthropic-version", "anthropic-beta", "anthropic-dangerous-direct-browser-access"]) expect(allowed).toContain(header);
  });

  it("HEAD / answers 200; GET /v1/models with anthropic-version is in Anthropic's list shape", { timeout: 20_000 }, async () => {
    expect((await gatewayFetch(`${BASE}/`, { method: "HEAD" })).status).toBe(200);
    const { key } = await createKey({ models: ["anthropic/*"] });
    const res = await gatewayFetch(`${BASE}/v1/models?limit=1000`, { headers: { "x-api-key": key, "anthropic-version": "2023-06-01" } });
    expect(res.status).toBe(200);
    const list = (await res.json()) as {
      data: Array<{ type: string; id: string; display_name: string; created_at: string }>;
      has_more: boolean;
      first_id: string;
    };
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.every((m) => m.type === "model" && /^(anthropic\/)?claude-/.test(m.id) && /Z$/.test(m.created_at))).toBe(true);
    expect(list.has_more).toBe(false);
    expect(list.first_id).toBe(list.data[0]!.id);
    // The SDK reads it too.
    const page = await anthropicSdk(key).models.list({ limit: 2 });
    expect(page.data).toHaveLength(2);
    expect(page.has_more).toBe(true);
    // Without anthropic-version: the OpenAI shape, as before.
    const openai = await gatewayFetch(`${BASE}/v1/models`, { headers: { authorization: `Bearer ${key}` } });
    expect(((await openai.json()) as { object: string }).object).toBe("list");
  });
});
