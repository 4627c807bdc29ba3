import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { chatCompletionRequestSchema } from "../../../src/openai/schema";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import type { AdapterContext } from "../../../src/providers/types";
import requestCases from "../../fixtures/anthropic/request-cases.json";
import { testContext } from "./support";

interface RequestCase {
  description: string;
  ctx?: Partial<AdapterContext>;
  request: unknown;
  want: unknown;
}

const ctx = (overrides: Partial<AdapterContext> = {}) =>
  testContext({ model: "claude-sonnet-4-6", baseUrl: "https://api.anthropic.com", apiKey: "sk-ant-test", ...overrides });

const build = (request: unknown, overrides: Partial<AdapterContext> = {}) =>
  anthropicAdapter.buildRequest(chatCompletionRequestSchema.parse(request), ctx(overrides));

describe("anthropic request translation (fixtures)", () => {
  it.each(requestCases as unknown as RequestCase[])("$description", ({ request, ctx: overrides, want }) => {
    expect(JSON.parse(build(request, overrides).body)).toStrictEqual(want);
  });
});

describe("anthropic request envelope", () => {
  it("posts to /v1/messages with x-api-key, anthropic-version and content-type", () => {
    const upstream = build({ model: "m", messages: [{ role: "user", content: "Hi" }] });
    expect(upstream.url).toBe("https://api.anthropic.com/v1/messages");
    expect(upstream.headers).toStrictEqual({
      "x-api-key": "sk-ant-test",
      "anthropic-version": "2023-06-01",
      "content-type": "application/json",
      accept: "application/json",
    });
  });

  it("asks for an event stream when streaming", () => {
    const upstream = build({ model: "m", stream: true, messages: [{ role: "user", content: "Hi" }] }, { stream: true });
    expect(upstream.headers.accept).toBe("text/event-stream");
    expect(JSON.parse(upstream.body).stream).toBe(true);
  });

  it("never puts the key in the body", () => {
    const upstream = build({ model: "m", messages: [{ role: "user", content: "Hi" }] });
    expect(upstream.body).not.toContain("sk-ant-test");
  });
});

describe("anthropic request rejections", () => {
  const user = (content: unknown) => ({ model: "m", messages: [{ role: "user", content }] });
  it.each([
    { what: "n > 1", request: { ...user("x"), n: 2 }, param: "n" },
    {
      what: "an image URL that is neither http(s) nor data:",
      request: user([{ type: "image_url", image_url: { url: "ftp://example.com/a.png" } }]),
      param: "messages[0].content[0].image_url.url",
    },
    {
      what: "an unsupported content part",
      request: user([
        { type: "text", text: "x" },
        { type: "input_audio", input_audio: { data: "AAA", format: "wav" } },
      ]),
      param: "messages[0].content[1].type",
    },
    {
      what: "a client tool using the reserved JSON-mode name",
      request: { ...user("x"), tools: [{ type: "function", function: { name: "json_tool_call" } }] },
      param: "tools[0].function.name",
    },
  ])("rejects $what with invalid_request naming the param", ({ request, param }) => {
    let thrown: unknown;
    try {
      build(request);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe("invalid_request");
    expect((thrown as GatewayError).param).toBe(param);
  });
});
