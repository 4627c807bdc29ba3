import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertFuzz,
  countCase,
  direct,
  expectAnthropicError,
  expectNoSecret,
  reportCounts,
  runs,
  scaledTimeout,
  serverSecrets,
  settleAll,
} from "../support/fuzz";
import { BASE, createKey, type CreatedKey } from "../support/gateway";

/**
 * Fuzzing /v1/messages and /v1/messages/count_tokens: a valid request (a Claude model, forwarded to
 * the mock Anthropic, or a mock model, translated), then 0-3 mutations (wrong types, missing or
 * unknown fields, odd blocks, huge numbers). Properties: never a 5xx (the mocks never fail unless
 * scripted to); an error is exactly Anthropic's shape; no secret is echoed.
 */

const BATCH = 8;
const RUNS = runs(120);

const text = fc.string({ maxLength: 40 });
const block = fc.oneof(
  text.map((t) => ({ type: "text", text: t })),
  fc.record({
    type: fc.constantFrom("image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking", "search_result", "x"),
    source: fc.anything(),
  }),
  fc.record({ type: fc.constant("tool_result"), tool_use_id: text, content: fc.oneof(text, fc.array(fc.record({ type: fc.constant("text"), text }))) }),
  fc.anything(),
);
const message = fc.record({ role: fc.oneof(fc.constantFrom("user", "assistant", "system"), text), content: fc.oneof(text, fc.array(block, { maxLength: 3 })) });

const mutation = fc.oneof(
  fc.record({
    field: fc.constantFrom(
      "model",
      "max_tokens",
      "messages",
      "system",
      "tools",
      "tool_choice",
      "stream",
      "thinking",
      "temperature",
      "stop_sequences",
      "metadata",
    ),
    value: fc.anything(),
  }),
  fc.record({ field: fc.constant("messages"), value: fc.array(message, { maxLength: 3 }) }),
  fc.record({ field: fc.constant("tools"), value: fc.array(fc.record({ name: text, type: fc.option(text), input_schema: fc.anything() }), { maxLength: 2 }) }),
  fc.record({ field: fc.constant("max_tokens"), value: fc.oneof(fc.integer(), fc.double(), fc.constant(1e308)) }),
  fc.record({ field: fc.constant("delete"), value: fc.constantFrom("model", "max_tokens", "messages") }),
);

const oneCase = fc.record({
  path: fc.constantFrom("/v1/messages", "/v1/messages?beta=true", "/v1/messages/count_tokens"),
  model: fc.constantFrom("claude-haiku-4-5", "mock/echo", "gpt-4o-mini"),
  stream: fc.boolean(),
  mutations: fc.array(mutation, { maxLength: 3 }),
});

type Case = typeof oneCase extends fc.Arbitrary<infer T> ? T : never;

describe("fuzz: POST /v1/messages", () => {
  let live: CreatedKey;
  beforeAll(async () => {
    live = await createKey({ name: "fuzz-messages" });
  }, 60_000);
  afterAll(() => reportCounts("test/fuzz/messages.test.ts"));

  async function send(c: Case): Promise<void> {
    const body: Record<string, unknown> = { model: c.model, max_tokens: 32, stream: c.stream, messages: [{ role: "user", content: "fuzz me" }] };
    for (const m of c.mutations) {
      if (m.field === "delete") delete body[m.value as string];
      else body[m.field] = m.value;
    }
    let json: string;
    try {
      json = JSON.stringify(body);
    } catch {
      return; // not serialisable (BigInt): nothing a client could send
    }
    const { res, text: out } = await direct(
      new Request(`${BASE}${c.path}`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": live.key, "anthropic-version": "2023-06-01" },
        body: json,
      }),
    );
    countCase("bodies × /v1/messages routes");
    expect(res.status, out).toBeLessThan(500);
    expectNoSecret(`${out}\n${JSON.stringify([...res.headers])}`, [...serverSecrets(), live.key]);
    if (res.status >= 400) expectAnthropicError(res, out);
  }

  it(`${RUNS * BATCH} generated requests: never 5xx, Anthropic's error shape, no secret echoed`, { timeout: scaledTimeout(300_000) }, async () => {
    await assertFuzz(
      fc.asyncProperty(fc.array(oneCase, { minLength: BATCH, maxLength: BATCH }), async (cases) => {
        await settleAll(cases.map((c) => send(c)));
      }),
      RUNS,
    );
  });
});
