import type OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { requestEntries, verifyAudit } from "./support/audit";
import { admin, BASE, createKey, gatewayFetch, mockUpstream, sdk } from "./support/gateway";
import { settledUsage } from "./support/usage";

/**
 * POST /v1/responses through the front door with the official openai SDK (only baseURL and the key
 * changed): OpenAI models forwarded natively, Anthropic / Gemini / mock translated to chat and back;
 * then the key's policy (allow-list, spend cap under concurrency, revocation), 429 pool rotation,
 * stored-response pinning and the audit log. Mock upstreams speak the exact wire formats.
 */

type Event = OpenAI.Responses.ResponseStreamEvent;

const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"], additionalProperties: false },
  strict: true,
};

function post(key: string, body: unknown): Promise<Response> {
  return gatewayFetch(`${BASE}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function collect(stream: AsyncIterable<Event>): Promise<Event[]> {
  const events: Event[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** The event sequence invariants of reference agent-apis §1.8: numbered from 0, one terminal event, last. */
function expectWellFormed(events: Event[]): void {
  expect(events.map((e) => e.sequence_number)).toStrictEqual(events.map((_, i) => i));
  expect(events[0]!.type).toBe("response.created");
  expect(events[1]!.type).toBe("response.in_progress");
  const terminal = events.filter((e) => ["response.completed", "response.incomplete", "response.failed"].includes(e.type));
  expect(terminal).toHaveLength(1);
  expect(events.at(-1)).toBe(terminal[0]);
}

const TEXT_SEQUENCE = [
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
];

describe("/v1/responses, OpenAI models forwarded natively", () => {
  it("buffered: the upstream gets the body unchanged but the model; usage with cached and reasoning tokens is metered", async () => {
    const { id, key } = await createKey();
    const client = sdk(key);
    const body = {
      model: "gpt-5.4",
      instructions: "MOCK_CACHED be brief",
      input: "hello gateway",
      reasoning: { effort: "low" as const },
      include: ["reasoning.encrypted_content" as const],
      store: false,
      tools: [{ type: "web_search" as const }],
      metadata: { trace: "native-buffered-7f3a" },
    };
    const { data, response } = await client.responses.create(body).withResponse();
    expect(data.object).toBe("response");
    expect(data.output_text).toBe("hello gateway");
    expect(data.output[0]).toMatchObject({ type: "reasoning", encrypted_content: expect.stringMatching(/^gAAAA/) });
    // 33 chars of text + 20 of tools in → 14 tokens (5 cached: the instructions); reasoning 8 + text 4 out.
    expect(data.usage).toMatchObject({
      input_tokens: 14,
      input_tokens_details: { cached_tokens: 5 },
      output_tokens: 12,
      output_tokens_details: { reasoning_tokens: 8 },
    });
    // gpt-5.4: 9 × $2.50 + 5 × $0.25 + 12 × $15 per 1M = 203.75 µ$, rounded up.
    expect(response.headers.get("x-keyforge-cost-usd")).toBe("0.000204");
    expect(response.headers.get("x-request-id")).toMatch(/^req_/);
    const [recorded] = (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes("native-buffered-7f3a"));
    expect(recorded!.path).toBe("/v1/responses");
    expect(recorded!.body).toStrictEqual({ ...body, model: "gpt-5.4" });
    const usage = await settledUsage(id);
    expect(usage).toMatchObject({ tokens: 26, spend_usd: 0.000204, requests: 1 });
  });

  it("streamed: OpenAI's events pass through in order; the terminal event's usage is metered", async () => {
    const { id, key } = await createKey();
    const events = await collect(await sdk(key).responses.create({ model: "openai/gpt-5.4", input: "stream me please", store: false, stream: true }));
    expect(events.map((e) => e.type)).toStrictEqual([...TEXT_SEQUENCE.slice(0, 5), "response.output_text.delta", ...TEXT_SEQUENCE.slice(5)]);
    expectWellFormed(events);
    const completed = events.at(-1) as OpenAI.Responses.ResponseCompletedEvent;
    expect(completed.response.output_text ?? completed.response.output).toBeTruthy();
    expect(completed.response.usage).toMatchObject({ input_tokens: 4, output_tokens: 4 });
    expect(await settledUsage(id)).toMatchObject({ tokens: 8, requests: 1 });
  });

  it("function tools: a function_call, then the full history with its output (store: false)", async () => {
    const { key } = await createKey();
    const client = sdk(key);
    const first = await client.responses.create({ model: "gpt-5.4", input: "Paris", tools: [weather], store: false });
    const call = first.output.find((item) => item.type === "function_call")!;
    expect(call).toMatchObject({ type: "function_call", name: "get_weather", arguments: '{"input":"Paris"}' });
    const second = await client.responses.create({
      model: "gpt-5.4",
      tools: [weather],
      store: false,
      input: [{ role: "user", content: "Paris" }, call, { type: "function_call_output", call_id: call.call_id, output: '{"temp_c":18}' }],
    });
    expect(second.output_text).toBe('Tool result: {"temp_c":18}');
  });

  it("OpenAI failing mid-stream: response.failed keeps OpenAI's code, not its text; the usage is still metered", async () => {
    const { id, key } = await createKey();
    const res = await post(key, { model: "gpt-5.4", input: "MOCK_FAIL_MIDSTREAM now", store: false, stream: true });
    const text = await res.text();
    expect(text).not.toContain("MOCK_SECRET_TEXT");
    expect(text.trim().split("\n\n").at(-1)).toMatch(/^event: response\.failed\ndata: .*"code":"server_error"/s);
    expect((await settledUsage(id)).requests).toBe(1);
    const [entry] = await requestEntries(id);
    expect(entry).toMatchObject({ endpoint: "responses", status: 502 });
  });
});

describe("/v1/responses, other providers translated through chat", () => {
  it.each([
    ["claude-sonnet-4-6", "anthropic"],
    ["gemini-2.5-flash", "gemini"],
    ["mock/echo", null],
  ])("%s: buffered text, with store reported false", async (model, provider) => {
    const { key } = await createKey();
    const client = sdk(key);
    const { data, response } = await client.responses.create({ model, instructions: "Be brief.", input: `translate-${model}` }).withResponse();
    expect(data).toMatchObject({ object: "response", status: "completed", model, store: false, instructions: "Be brief." });
    expect(data.id).toMatch(/^resp_/);
    expect(data.output_text).toBe(`translate-${model}`);
    expect(data.usage!.input_tokens).toBeGreaterThan(0);
    expect(Number(response.headers.get("x-keyforge-cost-usd"))).toBeGreaterThan(0);
    if (provider) {
      const recorded = (await mockUpstream.requests()).filter((r) => r.provider === provider && JSON.stringify(r.body).includes(`translate-${model}`));
      expect(recorded).toHaveLength(1);
    }
  });

  it.each(["claude-sonnet-4-6", "gemini-2.5-flash", "mock/echo"])("%s: streamed, the exact event sequence", async (model) => {
    const { id, key } = await createKey();
    const events = await collect(await sdk(key).responses.create({ model, input: "two words", stream: true }));
    expect(events.map((e) => e.type)).toStrictEqual(TEXT_SEQUENCE);
    expectWellFormed(events);
    const done = events.find((e) => e.type === "response.output_text.done") as OpenAI.Responses.ResponseTextDoneEvent;
    expect(done.text).toBe("two words");
    const completed = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response;
    expect(completed.usage!.input_tokens).toBeGreaterThan(0);
    expect(completed.output).toHaveLength(1);
    expect((await settledUsage(id)).requests).toBe(1);
  });

  it.each(["claude-sonnet-4-6", "gemini-2.5-flash"])("%s: a function tool round trip, streamed then buffered", async (model) => {
    const { key } = await createKey();
    const client = sdk(key);
    const events = await collect(await client.responses.create({ model, input: "Rome", tools: [weather], stream: true }));
    expectWellFormed(events);
    // Claude says "Calling get_weather." first: a message item, then the function_call item.
    const added = events.filter((e) => e.type === "response.output_item.added").map((e) => (e as OpenAI.Responses.ResponseOutputItemAddedEvent).item);
    expect(added.at(-1)).toMatchObject({ type: "function_call", name: "get_weather", arguments: "" });
    expect(events.some((e) => e.type === "response.function_call_arguments.delta")).toBe(true);
    const argsDone = events.find((e) => e.type === "response.function_call_arguments.done") as OpenAI.Responses.ResponseFunctionCallArgumentsDoneEvent;
    expect(JSON.parse(argsDone.arguments)).toStrictEqual({ input: "Rome" });
    const output = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.output;
    expect(output.map((item) => item.type)).toStrictEqual(added.map((item) => item.type));
    const call = output.at(-1) as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client.responses.create({
      model,
      tools: [weather],
      input: [{ role: "user", content: "Rome" }, call, { type: "function_call_output", call_id: call.call_id, output: '{"temp_c":21}' }],
    });
    expect(second.output_text).toBe('Tool result: {"temp_c":21}');
  });

  it("structured output (text.format json_schema) and max_output_tokens on a translated model", async () => {
    const { key } = await createKey();
    const client = sdk(key);
    const json = await client.responses.create({
      model: "gemini-2.5-flash",
      input: "weather?",
      text: { format: { type: "json_schema", name: "report", schema: { type: "object", properties: { summary: { type: "string" } } }, strict: true } },
    });
    expect(JSON.parse(json.output_text)).toStrictEqual({ summary: "mock" });
    const cut = await client.responses.create({ model: "claude-sonnet-4-6", input: "a fairly long sentence to cut short", max_output_tokens: 2 });
    expect(cut).toMatchObject({ status: "incomplete", incomplete_details: { reason: "max_output_tokens" } });
  });

  it("a translated provider failing mid-stream ends with response.failed", async () => {
    const { key } = await createKey();
    const res = await post(key, { model: "claude-sonnet-4-6", input: "MOCK_MIDSTREAM_ERROR please", stream: true });
    expect(res.status).toBe(200);
    const frames = (await res.text()).trim().split("\n\n");
    expect(frames[0]).toMatch(/^event: response\.created\n/);
    expect(frames.at(-1)).toMatch(/^event: response\.failed\ndata: .*"message":"The provider failed mid-stream\."/s);
  });

  it.each([
    [{ previous_response_id: "resp_abc" }, "previous_response_id"],
    [{ input: [{ type: "item_reference", id: "msg_abc" }] }, "input[0].type"],
    [{ tools: [{ type: "web_search" }] }, "tools[0].type"],
    [{ background: true }, "background"],
  ])("stored state and built-in tools on a translated model: 400 naming the param (%j)", async (extra, param) => {
    const { id, key } = await createKey();
    const res = await post(key, { model: "claude-sonnet-4-6", input: "hi", ...extra });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { type: string; param: string; message: string } };
    expect(body.error).toMatchObject({ type: "invalid_request_error", param });
    expect((await settledUsage(id)).requests).toBe(0);
  });

  it("bad input is a 400 in OpenAI's shape, never a 500", async () => {
    const { key } = await createKey();
    for (const body of [
      { model: "gpt-5.4" },
      { model: "mock/echo", input: 3 },
      { model: "mock/echo", input: "x", tools: [{ type: "function", name: "bad name!" }] },
    ]) {
      const res = await post(key, body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { type: string } }).error.type).toBe("invalid_request_error");
    }
  });
});

describe("/v1/responses with what Codex CLI sends (reference agent-apis §2.3)", () => {
  /** Codex's body: stateless (store: false), full history, encrypted reasoning asked for, extra fields. */
  const codexBody = (model: string, tag: string) => ({
    model,
    instructions: "You are Codex, a coding agent.",
    input: [
      { type: "message", role: "developer", content: [{ type: "input_text", text: "<environment_context>cwd=/repo</environment_context>" }] },
      { type: "message", role: "user", content: [{ type: "input_text", text: tag }] },
    ],
    tools: [
      {
        type: "function",
        name: "shell",
        description: "Runs a command",
        strict: false,
        parameters: { type: "object", properties: { command: { type: "array", items: { type: "string" } } } },
      },
    ],
    tool_choice: "auto",
    parallel_tool_calls: false,
    reasoning: { effort: "medium", summary: "auto" },
    store: false,
    stream: true,
    include: ["reasoning.encrypted_content"],
    prompt_cache_key: "thread-7d1f",
    client_metadata: { "x-codex-installation-id": "install-1" },
  });

  it.each(["gpt-5.4", "claude-sonnet-4-6", "gemini-2.5-flash"])("%s: streams a shell call; the next turn replays it all", async (model) => {
    const { key } = await createKey({ spend_cap_usd: 1 });
    const tag = `codex-${model}`;
    const res = await post(key, codexBody(model, tag));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    // SSE comments (the closing `: keyforge-cost-usd=…`, issue 18) are not events.
    const frames = (await res.text())
      .trim()
      .split("\n\n")
      .filter((f) => !f.startsWith(":"));
    const events = frames.map((f) => JSON.parse(f.split("\n")[1]!.slice(6)) as Event);
    expectWellFormed(events);
    const output = (events.at(-1) as OpenAI.Responses.ResponseCompletedEvent).response.output;
    const call = output.find((item) => item.type === "function_call")!;
    expect(call).toMatchObject({ name: "shell", arguments: JSON.stringify({ input: tag }) });
    // Codex's next turn: everything again, reasoning items included, plus the tool output.
    const next = codexBody(model, tag);
    next.input.push(...(output as never[]), { type: "function_call_output", call_id: call.call_id, output: "exit 0" } as never);
    const second = await post(key, next);
    expect(second.status).toBe(200);
    // (Gemini takes tool results as objects: the adapter wraps the string as {"result": …}.)
    expect(await second.text()).toMatch(/"text":"Tool result: (exit 0|\{\\"result\\":\\"exit 0\\"\})"/);
  });
});

describe("/v1/responses under the key's policy", () => {
  it("model allow-list: a model outside it is refused (403) before any upstream call", async () => {
    const { key } = await createKey({ models: ["gpt-*"] });
    const res = await post(key, { model: "claude-sonnet-4-6", input: "allow-list-9c1e" });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("model_not_allowed");
    expect((await mockUpstream.requests()).some((r) => JSON.stringify(r.body).includes("allow-list-9c1e"))).toBe(false);
  });

  it("revocation: the next request is refused with key_revoked", async () => {
    const { id, key } = await createKey();
    expect((await post(key, { model: "mock/echo", input: "before" })).status).toBe(200);
    expect((await admin(`/keys/${id}/revoke`, { method: "POST" })).status).toBe(200);
    const res = await post(key, { model: "mock/echo", input: "after" });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("key_revoked");
  });

  it("spend cap under concurrency: 30 parallel requests never overspend it", async () => {
    // Worst case of one request: ≈ 60 prompt tokens × $2.50 + 1000 × $15 per 1M ≈ $0.015; the cap fits 3.
    const { id, key } = await createKey({ spend_cap_usd: 0.05 });
    const body = { model: "gpt-5.4", input: "spend-cap-responses-4b2d", max_output_tokens: 1000, store: false };
    const responses = await Promise.all(Array.from({ length: 30 }, () => post(key, body)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThanOrEqual(3);
    expect(statuses.filter((s) => s !== 200 && s !== 402)).toStrictEqual([]);
    expect(statuses.filter((s) => s === 402).length).toBeGreaterThan(0);
    await Promise.all(responses.map((r) => r.text()));
    const usage = await settledUsage(id);
    expect(usage.spend_usd).toBeLessThanOrEqual(0.05);
    expect(usage.requests).toBe(statuses.filter((s) => s === 200).length);
  });

  it("a capped key refuses what pulls in context it cannot see: previous_response_id, server-side tools", async () => {
    const { key } = await createKey({ spend_cap_usd: 1 });
    for (const [extra, param] of [
      [{ previous_response_id: "resp_1" }, "previous_response_id"],
      [{ tools: [{ type: "web_search" }] }, "tools[0]"],
    ] as const) {
      const res = await post(key, { model: "gpt-5.4", input: "hi", ...extra });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: { param: string } }).error.param).toBe(param);
    }
  });

  it("audit: one entry per request with endpoint 'responses', and the chain verifies", async () => {
    const { id, key } = await createKey();
    await sdk(key).responses.create({ model: "mock/echo", input: "audited" });
    await collect(await sdk(key).responses.create({ model: "gpt-5.4", input: "audited stream", store: false, stream: true }));
    await settledUsage(id);
    const entries = await requestEntries(id);
    expect(entries.map((e) => [e.endpoint, e.model, e.status])).toStrictEqual([
      ["responses", "mock/echo", 200],
      ["responses", "openai/gpt-5.4", 200],
    ]);
    expect((await verifyAudit(id)).valid).toBe(true);
  });
});

// Last in the file: these add keys to the openai pool and cool some down.
describe("/v1/responses with a pool of OpenAI keys", () => {
  async function addKey(scope: string): Promise<string> {
    const key = `sk-${scope}-${crypto.randomUUID().replace(/-/g, "")}`;
    const res = await admin("/provider-keys", { method: "POST", json: { provider: "openai", key, scope } });
    expect(res.status).toBe(201);
    return key;
  }
  const rateLimit = (key: string) =>
    mockUpstream.script({
      key,
      status: 429,
      headers: { "retry-after": "30" },
      body: { error: { message: "Rate limit reached for requests", type: "requests", param: null, code: "rate_limit_exceeded" } },
    });
  const keysOf = async (tag: string) => (await mockUpstream.requests()).filter((r) => JSON.stringify(r.body).includes(tag)).map((r) => r.key);

  it("stored responses stay in the home scope, so previous_response_id finds them; store:false rotates past a 429", async () => {
    // The oldest key's scope is home (org-a); the org-b key and the environment key are elsewhere.
    const home = await addKey("org-a");
    const other = await addKey("org-b");
    const { key } = await createKey();
    const client = sdk(key);
    let previous: string | null = null;
    for (let turn = 0; turn < 4; turn++) {
      const res: OpenAI.Responses.Response = await client.responses.create({
        model: "gpt-5.4",
        input: `pinned-turn-${turn}-e51c`,
        ...(previous ? { previous_response_id: previous } : {}),
      });
      expect(res.output_text).toBe(`pinned-turn-${turn}-e51c`);
      previous = res.id;
    }
    for (let turn = 0; turn < 4; turn++) expect(await keysOf(`pinned-turn-${turn}-e51c`)).toStrictEqual([home]);

    // The other organisation's key is rate limited: stateless requests rotate past it, all succeed.
    await rateLimit(other);
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => client.responses.create({ model: "gpt-5.4", input: `rotate-${i}-e51c`, store: false })),
    );
    expect(results.map((r) => r.status)).toStrictEqual(Array(12).fill("completed"));
    const tried = (await Promise.all(Array.from({ length: 12 }, (_, i) => keysOf(`rotate-${i}-e51c`)))).flat();
    expect(tried).toContain(other);

    // The home scope rate limited: a stateful request waits (429), it never goes to another organisation.
    await rateLimit(home);
    const res = await post(key, { model: "gpt-5.4", input: "pinned-limited-e51c", previous_response_id: previous });
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("store: false");
    expect(await keysOf("pinned-limited-e51c")).toStrictEqual([home]);
    // …while a stateless one still gets through on the environment key.
    expect((await post(key, { model: "gpt-5.4", input: "stateless-e51c", store: false })).status).toBe(200);
  });
});
