import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { chatCompletionRequestSchema } from "../../../src/openai/schema";
import { geminiAdapter } from "../../../src/providers/gemini";
import type { AdapterContext } from "../../../src/providers/types";
import requestCases from "../../fixtures/gemini/request-cases.json";
import { testContext } from "./support";

interface RequestCase {
  description: string;
  ctx?: Partial<AdapterContext>;
  request: unknown;
  want: unknown;
}

const ctx = (overrides: Partial<AdapterContext> = {}) =>
  testContext({
    model: "gemini-2.5-flash",
    baseUrl: "https://generativelanguage.googleapis.com",
    apiKey: "AIza-test",
    ...overrides,
  });

const build = (request: unknown, overrides: Partial<AdapterContext> = {}) =>
  geminiAdapter.buildRequest(chatCompletionRequestSchema.parse(request), ctx(overrides));

describe("gemini request translation (fixtures)", () => {
  it.each(requestCases as unknown as RequestCase[])("$description", ({ request, ctx: overrides, want }) => {
    expect(JSON.parse(build(request, overrides).body)).toStrictEqual(want);
  });
});

describe("gemini request envelope", () => {
  const hi = { model: "m", messages: [{ role: "user", content: "Hi" }] };

  it("posts to :generateContent with x-goog-api-key", () => {
    const upstream = build(hi);
    expect(upstream.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent");
    expect(upstream.headers).toStrictEqual({
      "x-goog-api-key": "AIza-test",
      "content-type": "application/json",
      accept: "application/json",
    });
    expect(upstream.url + upstream.body).not.toContain("AIza-test");
  });

  it("streams from :streamGenerateContent?alt=sse, with the same body", () => {
    const upstream = build({ ...hi, stream: true }, { stream: true });
    expect(upstream.url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    expect(upstream.headers.accept).toBe("text/event-stream");
    expect(JSON.parse(upstream.body)).toStrictEqual(JSON.parse(build(hi).body));
  });

  it("accepts a model named with the models/ resource prefix", () => {
    expect(build(hi, { model: "models/gemini-2.5-pro" }).url).toBe("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent");
  });
});

describe("gemini request rejections", () => {
  const user = (content: unknown) => ({ model: "m", messages: [{ role: "user", content }] });
  it.each([
    {
      what: "a tool message whose tool_call_id no assistant tool call has",
      request: {
        model: "m",
        messages: [
          { role: "user", content: "x" },
          { role: "tool", tool_call_id: "call_missing", content: "r" },
        ],
      },
      param: "messages[1].tool_call_id",
    },
    {
      what: "an image URL that is neither http(s), gs:// nor data:",
      request: user([{ type: "image_url", image_url: { url: "file:///etc/passwd" } }]),
      param: "messages[0].content[0].image_url.url",
    },
    {
      what: "an unsupported content part",
      request: user([{ type: "input_audio", input_audio: { data: "AAA", format: "wav" } }]),
      param: "messages[0].content[0].type",
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
