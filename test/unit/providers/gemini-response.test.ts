import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { geminiAdapter } from "../../../src/providers/gemini";
import type { BufferedResult } from "../../../src/providers/types";
import responses from "../../fixtures/gemini/responses.json";
import { testContext } from "./support";

interface ResponseCase {
  description: string;
  upstream: unknown;
  want: BufferedResult;
}

const ctx = testContext({ model: "gemini-2.5-flash" });

describe("gemini buffered response translation (fixtures)", () => {
  it.each(responses as unknown as ResponseCase[])("$description", ({ upstream, want }) => {
    expect(geminiAdapter.parseResponse(upstream, ctx)).toStrictEqual(want);
  });
});

describe("gemini finishReason → finish_reason", () => {
  const text = (finishReason: string) => ({ candidates: [{ content: { parts: [{ text: "t" }] }, finishReason }] });
  const call = (finishReason: string) => ({ candidates: [{ content: { parts: [{ functionCall: { name: "f" } }] }, finishReason }] });
  it.each([
    [text("STOP"), "stop"],
    [text("OTHER"), "stop"],
    [text("RECITATION"), "stop"],
    [text("FINISH_REASON_UNSPECIFIED"), "stop"],
    [text("MALFORMED_FUNCTION_CALL"), "stop"],
    [text("A_REASON_ADDED_LATER"), "stop"],
    [text("MAX_TOKENS"), "length"],
    [text("SAFETY"), "content_filter"],
    [text("PROHIBITED_CONTENT"), "content_filter"],
    [text("BLOCKLIST"), "content_filter"],
    [text("SPII"), "content_filter"],
    [text("IMAGE_SAFETY"), "content_filter"],
    [call("STOP"), "tool_calls"],
    [call("MAX_TOKENS"), "length"],
  ])("%j → %s", (upstream, finish) => {
    expect(geminiAdapter.parseResponse(upstream, ctx).body.choices[0]!.finish_reason).toBe(finish);
  });
});

describe("gemini malformed responses", () => {
  it.each([
    ["null", null],
    ["an array", [{ candidates: [] }]],
    ["no candidates and no blockReason", { usageMetadata: { promptTokenCount: 1 } }],
    ["a functionCall without a name", { candidates: [{ content: { parts: [{ functionCall: { args: {} } }] } }] }],
    ["a non-numeric token count", { candidates: [{ content: { parts: [{ text: "x" }] } }], usageMetadata: { promptTokenCount: "1" } }],
  ])("%s → upstream_error with the public message only", (_what, upstream) => {
    let thrown: unknown;
    try {
      geminiAdapter.parseResponse(upstream, ctx);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe("upstream_error");
    expect((thrown as GatewayError).message).toBe("The provider returned a malformed response.");
  });
});
