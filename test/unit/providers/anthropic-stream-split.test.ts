import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { anthropicAdapter } from "../../../src/providers/anthropic";
import { ERROR_STREAM, JSON_MODE_STREAM, TEXT_STREAM, TOOLS_STREAM } from "../../fixtures/anthropic/streams";
import { runStream, splitAt, testContext } from "./support";

const ctx = testContext({ model: "claude-sonnet-4-6", stream: true, includeUsage: true });

describe("anthropic stream: byte splits do not change the output", () => {
  it.each([
    ["text", TEXT_STREAM],
    ["tools + thinking + multi-byte text", TOOLS_STREAM],
    ["JSON mode", JSON_MODE_STREAM],
    ["mid-stream error", ERROR_STREAM],
    ["CRLF line endings", TOOLS_STREAM.replace(/\n/g, "\r\n")],
  ])("%s", (_name, text) => {
    const bytes = new TextEncoder().encode(text);
    const whole = runStream(anthropicAdapter, ctx, [bytes]).frames;
    expect(whole.length).toBeGreaterThanOrEqual(3);
    const cuts = fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 40 }).map((c) => c.sort((a, b) => a - b));
    fc.assert(
      fc.property(cuts, (offsets) => {
        expect(runStream(anthropicAdapter, ctx, splitAt(bytes, offsets)).frames).toStrictEqual(whole);
      }),
      { numRuns: 200 },
    );
  });
});
