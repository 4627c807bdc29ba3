import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../src/errors";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import type { BufferedResult } from "../../../src/providers/types";
import responses from "../../fixtures/anthropic/responses.json";
import { testContext } from "./support";

interface ResponseCase {
  description: string;
  upstream: unknown;
  want: BufferedResult;
}

const ctx = testContext({ model: "claude-sonnet-4-6" });
const message = (stopReason: string) => ({ id: "msg_x", content: [{ type: "text", text: "t" }], stop_reason: stopReason });

describe("anthropic buffered response translation (fixtures)", () => {
  it.each(responses as unknown as ResponseCase[])("$description", ({ upstream, want }) => {
    expect(anthropicAdapter.parseResponse(upstream, ctx)).toStrictEqual(want);
  });
});

describe("anthropic stop_reason → finish_reason", () => {
  it.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["refusal", "content_filter"],
    ["a_reason_added_later", "stop"],
  ])("%s → %s", (stopReason, finish) => {
    expect(anthropicAdapter.parseResponse(message(stopReason), ctx).body.choices[0]!.finish_reason).toBe(finish);
  });

  it("tool_use with a real tool call → tool_calls", () => {
    const upstream = { id: "msg_x", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }], stop_reason: "tool_use" };
    expect(anthropicAdapter.parseResponse(upstream, ctx).body.choices[0]!.finish_reason).toBe("tool_calls");
  });
});

describe("anthropic malformed responses", () => {
  it.each([
    ["null", null],
    ["a string", "hello"],
    ["no content", { id: "msg_x", stop_reason: "end_turn" }],
    ["no id", { content: [], stop_reason: "end_turn" }],
    ["a text block without text", { id: "msg_x", content: [{ type: "text" }] }],
    ["a tool_use block without input", { id: "msg_x", content: [{ type: "tool_use", id: "t", name: "f" }] }],
    ["usage with a negative count", { id: "msg_x", content: [], usage: { input_tokens: -1, output_tokens: 1 } }],
  ])("%s → upstream_error with the public message only", (_what, upstream) => {
    let thrown: unknown;
    try {
      anthropicAdapter.parseResponse(upstream, ctx);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(GatewayError);
    expect((thrown as GatewayError).code).toBe("upstream_error");
    expect((thrown as GatewayError).message).toBe("The provider returned a malformed response.");
  });
});
