import { describe, expect, it } from "vitest";
import { SseTranslation } from "../../../src/proxy/sse-translation";
import { NativeResponsesStream, nativeResponsesRequest, storedStateParam, usageFromResponses } from "../../../src/responses/native";
import { responsesRequestSchema } from "../../../src/responses/schema";
import { testContext } from "../providers/support";

/** OpenAI-native /v1/responses: forwarded as is, usage read from the response or the terminal event. */

const ev = (type: string, seq: number, fields: Record<string, unknown> = {}) =>
  `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq, ...fields })}\n\n`;
const response = (status: string, usage: unknown = null) => ({ id: "resp_1", object: "response", status, output: [], usage });
const USAGE = {
  input_tokens: 328,
  input_tokens_details: { cached_tokens: 128, cache_write_tokens: 0 },
  output_tokens: 52,
  output_tokens_details: { reasoning_tokens: 40 },
  total_tokens: 380,
};

function run(upstream: string) {
  const translator = new NativeResponsesStream();
  const translation = new SseTranslation(translator);
  const frames = [...translation.feed(new TextEncoder().encode(upstream)), ...translation.end()];
  return { text: frames.join(""), translator, failed: translation.failed };
}

describe("native Responses passthrough", () => {
  it("renames the model, keeps every other field, injects the output cap only when the policy needs one", () => {
    const request = responsesRequestSchema.parse({
      model: "openai/gpt-5.4",
      input: [{ type: "item_reference", id: "msg_1" }],
      store: true,
      include: ["reasoning.encrypted_content"],
      tools: [{ type: "web_search" }],
      client_metadata: { a: "b" },
    });
    const built = nativeResponsesRequest(request, testContext({ model: "gpt-5.4", baseUrl: "https://api.openai.com/v1", defaultMaxTokens: 4096 }));
    expect(built.url).toBe("https://api.openai.com/v1/responses");
    expect(built.headers.authorization).toBe("Bearer sk-test");
    expect(JSON.parse(built.body)).toStrictEqual({ ...request, model: "gpt-5.4", max_output_tokens: 4096 });
    const capped = nativeResponsesRequest({ ...request, max_output_tokens: 100 }, testContext({ defaultMaxTokens: 4096 }));
    expect(JSON.parse(capped.body).max_output_tokens).toBe(100);
  });

  it("names the field that reads state stored at OpenAI", () => {
    const p = (body: Record<string, unknown>) => storedStateParam(responsesRequestSchema.parse({ model: "gpt-5.4", input: "x", ...body }));
    expect(p({})).toBeNull();
    expect(p({ store: true })).toBeNull();
    expect(p({ previous_response_id: "resp_1" })).toBe("previous_response_id");
    expect(p({ conversation: { id: "conv_1" } })).toBe("conversation");
    expect(p({ prompt: { id: "pmpt_1" } })).toBe("prompt");
    expect(
      p({
        input: [
          { role: "user", content: "x" },
          { type: "item_reference", id: "msg_1" },
        ],
      }),
    ).toBe("input[1]");
  });

  it("reads usage with cached and reasoning tokens", () => {
    expect(usageFromResponses(USAGE)).toStrictEqual({
      promptTokens: 328,
      completionTokens: 52,
      cachedPromptTokens: 128,
      cacheWriteTokens: 0,
      reasoningTokens: 40,
    });
    expect(usageFromResponses(null)).toBeNull();
  });

  it("forwards events unchanged and meters the terminal event's usage", () => {
    const upstream =
      ev("response.created", 0, { response: response("in_progress") }) +
      ev("response.output_text.delta", 1, { item_id: "msg_1", output_index: 0, content_index: 0, delta: "Hi", logprobs: [], obfuscation: "xyz" }) +
      ev("response.completed", 2, { response: response("completed", USAGE) });
    const { text, translator, failed } = run(upstream);
    expect(text).toBe(upstream);
    expect(failed).toBe(false);
    expect(translator.usage()).toMatchObject({ promptTokens: 328, completionTokens: 52, cachedPromptTokens: 128, reasoningTokens: 40 });
  });

  it("OpenAI's own response.failed keeps its code and sequence number but not its message; usage still metered", () => {
    const upstream =
      ev("response.created", 0, { response: response("in_progress") }) +
      ev("response.failed", 1, { response: { ...response("failed", USAGE), error: { code: "rate_limit_exceeded", message: "secret upstream text" } } });
    const { text, translator, failed } = run(upstream);
    expect(failed).toBe(true);
    expect(text).not.toContain("secret upstream text");
    const last = JSON.parse(text.trim().split("\n").at(-1)!.slice(6));
    expect(last).toMatchObject({
      type: "response.failed",
      sequence_number: 1,
      response: { id: "resp_1", status: "failed", error: { code: "rate_limit_exceeded" } },
    });
    expect(translator.usage()).toMatchObject({ promptTokens: 328 });
  });

  it("a stream cut before its terminal event ends with response.failed numbered after the last event", () => {
    const { text, failed, translator } = run(
      ev("response.created", 0, { response: response("in_progress") }) + ev("response.in_progress", 1, { response: response("in_progress") }),
    );
    expect(failed).toBe(true);
    const last = JSON.parse(text.trim().split("\n").at(-1)!.slice(6));
    expect(last).toMatchObject({ type: "response.failed", sequence_number: 2, response: { status: "failed", error: { code: "server_error" } } });
    expect(translator.usage()).toBeNull();
  });
});
